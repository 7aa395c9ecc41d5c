"use strict";

// The admin page: one SignalR connection to this gateway's admin hub, which pushes a snapshot of the cluster every
// second. The key or token typed in is sent as the access token, and kept for this tab only.
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
    cell(row, g.id + (g.id === s.gateway ? " (this one)" : ""));
    cell(row, g.connections < 0 ? "no answer" : String(g.connections), "number");
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
    $("login").hidden = true;
    $("view").hidden = false;
    status("live");
  } catch (error) {
    sessionStorage.removeItem("realtime-admin");
    status(`refused: ${error.message}`);
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
