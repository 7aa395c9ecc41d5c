// The demo page: one SignalR connection to the RealtimeHub, a form per operation, a log of what arrives.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  let connection = null;

  // Resuming after a reconnect: the ticket of the current session, and the last message seen from each room (and
  // from the namespace, room null), which the next connection presents to get back what it missed.
  let ticket = null;
  const positions = new Map();

  function remember(message) {
    if (message.seq !== undefined && message.epoch) {
      positions.set(message.room ?? "", { room: message.room ?? null, epoch: message.epoch, seq: message.seq });
    }
  }

  async function takeTicket() {
    try {
      ticket = await connection.invoke("Session");
    } catch (error) {
      ticket = null;
      log(`this session cannot be resumed: ${error.message}`, "error");
    }
  }

  function log(text, kind) {
    const item = document.createElement("li");
    item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
    if (kind) item.className = kind;
    $("log").prepend(item);
  }

  function setConnected(connected, connectionId, gateway) {
    $("status").value = connected ? "connected" : "disconnected";
    $("connection-id").value = connected && connectionId ? `as ${connectionId}` : "";
    $("gateway").value = connected && gateway ? `to gateway ${gateway}` : "";
    $("connect").disabled = connected;
    $("disconnect").disabled = !connected;
    for (const button of document.querySelectorAll(".needs-connection button")) button.disabled = !connected;
  }

  function showRooms(rooms) {
    $("rooms").value = rooms.length ? rooms.join(", ") : "none";
  }

  // Calls a hub method and logs the outcome; errors from the server (bad names, oversized messages) are shown.
  async function call(method, ...args) {
    log(`→ ${method}(${args.map((a) => JSON.stringify(a)).join(", ")})`, "sent");
    try {
      const result = await connection.invoke(method, ...args);
      if (result !== null && result !== undefined) log(`← ${method}: ${JSON.stringify(result)}`);
      return result;
    } catch (error) {
      log(`✗ ${method}: ${error.message}`, "error");
      return undefined;
    }
  }

  function hubUrl(namespace) {
    const name = namespace.trim().replace(/^\/+/, "");
    return name ? `/realtime/${encodeURIComponent(name)}` : "/realtime";
  }

  async function connect(namespace) {
    // WebSockets without negotiation: no sticky sessions are needed behind any load balancer.
    connection = new signalR.HubConnectionBuilder()
      .withUrl(hubUrl(namespace), { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
      .withAutomaticReconnect()
      .build();

    connection.on("event", (message) => {
      remember(message);
      const where = message.room ? `room ${message.room}` : `namespace ${message.namespace}`;
      log(`${message.event} in ${where} from ${message.from}: ${JSON.stringify(message.data)}`);
    });
    connection.on("roomClosed", (room) => {
      log(`room ${room} was closed`);
      refreshRooms();
    });
    connection.on("disconnecting", (reason) => log(`server is disconnecting us (${reason})`));
    connection.onreconnecting(() => { log("reconnecting…"); setConnected(false); });
    connection.onreconnected(async () => {
      const connectionId = await connection.invoke("ConnectionId");
      const gateway = await connection.invoke("Gateway");
      log(`reconnected, to gateway ${gateway}`);
      setConnected(true, connectionId, gateway);
      if (ticket) {
        // Take the session back: rooms, data, and what was sent to them meanwhile, in order.
        const result = await call("Resume", ticket.connectionId, ticket.token, [...positions.values()]);
        if (result) {
          log(result.recovered
            ? `resumed: ${result.replayed} missed message(s) replayed${result.lost.length ? `; history lost for ${result.lost.join(", ")}` : ""}`
            : "could not resume the session: join your rooms again", result.recovered ? undefined : "error");
          showRooms(result.rooms);
        }
      }

      await takeTicket();
    });
    connection.onclose((error) => {
      log(error ? `disconnected: ${error.message}` : "disconnected", error ? "error" : undefined);
      setConnected(false);
      showRooms([]);
    });

    try {
      await connection.start();
      // Without negotiation the client does not know its connection id: ask the hub.
      const connectionId = await connection.invoke("ConnectionId");
      // Behind a balancer, which gateway this tab reached: two tabs on two gateways are told apart by it.
      const gateway = await connection.invoke("Gateway");
      log(`connected to namespace ${namespace || "/"} as ${connectionId}, on gateway ${gateway}`);
      setConnected(true, connectionId, gateway);
      positions.clear();
      await takeTicket();
    } catch (error) {
      log(`could not connect: ${error.message}`, "error");
      setConnected(false);
    }
  }

  async function refreshRooms() {
    const rooms = await call("Rooms");
    if (rooms) showRooms(rooms);
  }

  function onSubmit(id, handler) {
    $(id).addEventListener("submit", (event) => {
      event.preventDefault();
      handler();
    });
  }

  onSubmit("connect-form", () => connect($("namespace").value));
  $("disconnect").addEventListener("click", () => call("Disconnect"));
  onSubmit("echo-form", () => call("Echo", $("echo-event").value, $("echo-data").value));
  onSubmit("broadcast-form", () => call("Broadcast", $("broadcast-event").value, $("broadcast-data").value));
  onSubmit("room-form", async () => {
    const rooms = await call("Join", $("room").value);
    if (rooms) showRooms(rooms);
  });
  $("leave").addEventListener("click", async () => {
    const rooms = await call("Leave", $("room").value);
    if (rooms) showRooms(rooms);
  });
  $("close-room").addEventListener("click", () => call("CloseRoom", $("room").value));
  $("my-rooms").addEventListener("click", refreshRooms);
  $("presence").addEventListener("click", () => call("Presence", $("room").value));
  onSubmit("send-form", () => call("SendToRoom", $("send-room").value, $("send-event").value, $("send-data").value));
  $("clear-log").addEventListener("click", () => { $("log").replaceChildren(); });

  setConnected(false);
})();
