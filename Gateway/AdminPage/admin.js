"use strict";

// The admin page: one SignalR connection to this gateway's admin hub, which pushes a snapshot of the cluster every
// second, and charts the last minutes of each gateway's and room's numbers from them. The key or token typed in is
// sent as the access token, and kept for this tab only.
const base = document.body.dataset.base;
const $ = (id) => document.getElementById(id);
let connection = null;

function status(text) {
  $("status").textContent = text;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function button(td, text, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.addEventListener("click", action);
  td.appendChild(b);
  return b;
}

function fill(tableId, items, addRow) {
  const body = $(tableId).tBodies[0];
  body.replaceChildren();
  for (const item of items) addRow(body.insertRow(), item);
}

// The last minutes of each series the page charts (a gateway's connections and messages per second, a room's
// messages per second), one point per snapshot.
const HistoryPoints = 300;
const history = new Map();

function remember(key, value) {
  let points = history.get(key);
  if (!points) history.set(key, (points = []));
  points.push(value);
  if (points.length > HistoryPoints) points.shift();
  return points;
}

// A small line chart of a series, scaled to its own largest value, with that value as its title.
function sparkline(points, label) {
  const svgNs = "http://www.w3.org/2000/svg";
  const width = 120;
  const height = 24;
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("role", "img");
  const top = Math.max(1, ...points);
  svg.setAttribute("aria-label", `${label}: ${points.length} points, up to ${top.toFixed(1)}`);
  const title = document.createElementNS(svgNs, "title");
  title.textContent = `${label}, last ${points.length} s: up to ${top.toFixed(1)}`;
  svg.appendChild(title);
  const line = document.createElementNS(svgNs, "polyline");
  const step = width / Math.max(1, HistoryPoints - 1);
  const start = width - step * (points.length - 1);
  line.setAttribute("points", points.map((v, i) => `${(start + i * step).toFixed(1)},${(height - 1 - (v / top) * (height - 2)).toFixed(1)}`).join(" "));
  svg.appendChild(line);
  return svg;
}

function chartCell(row, key, value, label) {
  row.insertCell().appendChild(sparkline(remember(key, value), label));
}

function report(text) {
  $("result").textContent = text;
}

async function call(method, ...args) {
  try {
    return await connection.invoke(method, ...args);
  } catch (error) {
    report(`${method} failed: ${error.message}`);
    throw error;
  }
}

async function showMembers(ns, room) {
  const members = await call("Members", ns, room);
  $("members-title").textContent = `Members of ${room} in ${ns}`;
  $("members-title").hidden = false;
  $("members").hidden = false;
  fill("members", members, (row, m) => {
    row.dataset.connection = m.connectionId;
    cell(row, m.connectionId);
    cell(row, m.userId ?? "");
    cell(row, m.gatewayId);
    button(row.insertCell(), "Disconnect", () => disconnect(m.connectionId));
  });
}

async function disconnect(connectionId) {
  const done = await call("Disconnect", connectionId);
  report(done ? `Disconnected ${connectionId}.` : `${connectionId} is not connected.`);
}

function render(s) {
  $("served-by").textContent = s.gateway;
  $("updated").textContent = new Date(s.at).toLocaleTimeString();
  fill("gateways", s.gateways, (row, g) => {
    row.dataset.gateway = g.id;
    cell(row, g.id + (g.id === s.gateway ? " (this one)" : ""));
    cell(row, g.connections < 0 ? "no answer" : String(g.connections), "number connections");
    chartCell(row, `gateway connections ${g.id}`, Math.max(0, g.connections), "connections");
    cell(row, g.messagesPerSecond.toFixed(1), "number rate");
    chartCell(row, `gateway rate ${g.id}`, g.messagesPerSecond, "messages/s");
  });
  fill("silos", s.silos, (row, silo) => {
    cell(row, silo.address);
    cell(row, silo.status);
    cell(row, String(silo.activations), "number");
  });
  fill("namespaces", s.namespaces, (row, n) => {
    row.dataset.namespace = n.name;
    cell(row, n.name);
    cell(row, String(n.connections), "number connections");
    cell(row, n.messagesPerSecond.toFixed(1), "number");
  });
  fill("rooms", s.rooms, (row, r) => {
    row.dataset.namespace = r.namespace;
    row.dataset.room = r.name;
    cell(row, r.namespace);
    cell(row, r.name);
    cell(row, String(r.members), "number members");
    cell(row, r.messagesPerSecond.toFixed(1), "number rate");
    chartCell(row, `room ${r.namespace} ${r.name}`, r.messagesPerSecond, "messages/s");
    const actions = row.insertCell();
    button(actions, "Members", () => showMembers(r.namespace, r.name));
    button(actions, "Close room", async () => {
      const count = await call("CloseRoom", r.namespace, r.name);
      report(`Closed ${r.name} in ${r.namespace}: ${count} member(s) left it.`);
    }).className = "close-room";
  });
  $("truncated").hidden = !s.roomsTruncated;
}

async function open(secret) {
  connection?.stop();
  connection = new signalR.HubConnectionBuilder()
    .withUrl(`${base}/hub`, { accessTokenFactory: () => secret })
    .withAutomaticReconnect()
    .build();
  connection.on("snapshot", render);
  connection.onreconnecting(() => status("reconnecting…"));
  connection.onreconnected(() => status("live"));
  connection.onclose(() => status("disconnected"));
  try {
    await connection.start();
    sessionStorage.setItem("realtime-admin", secret);
    $("login-error").hidden = true;
    $("login").hidden = true;
    $("view").hidden = false;
    status("live");
  } catch (error) {
    sessionStorage.removeItem("realtime-admin");
    connection = null;
    // SignalR says "Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'".
    const refused = /\b(401|403)\b|Unauthorized|Forbidden/i.test(error.message);
    const text = refused
      ? "That key or token was not accepted. Check it and try again."
      : "The admin view could not be reached. Is the gateway running? Try again in a moment.";
    status("signed out");
    $("login-error").textContent = text;
    $("login-error").hidden = false;
    $("secret").select();
  }
}

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  open($("secret").value);
});

$("disconnect-form").addEventListener("submit", (e) => {
  e.preventDefault();
  disconnect($("connection-id").value.trim());
});

const saved = sessionStorage.getItem("realtime-admin");
if (saved) open(saved);
