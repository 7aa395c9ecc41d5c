// The comparison system: a socket.io 4.8 server as the seed deployments run it, one Node process per node, nodes joined
// by @socket.io/redis-adapter. It offers the load clients the same operations as the RealtimeHub, by event name:
//   join(room, ack)            joins a room, acknowledges with the socket id
//   id(ack)                    acknowledges with the socket id (a round trip after connecting)
//   leave(room, ack)           leaves a room, acknowledges with the socket id
//   room(room, event, data[, ack])  sends "event" to every member of the room, the sender included; acknowledges
//                              when asked to, once the adapter has it
//   broadcast(event, data)     sends "event" to every socket of the namespace, the sender included
// and delivers in the RealtimeHub's envelope: { event, data, namespace, room, from }.
// Usage: node server.cjs <port> <redis port>
"use strict";
const http = require("node:http");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

const [port, redisPort] = process.argv.slice(2).map(Number);

async function main() {
  const pub = createClient({ url: `redis://127.0.0.1:${redisPort}` });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);

  const server = http.createServer((req, res) => {
    if (req.url === "/healthz/ready") {
      res.writeHead(200).end("ready");
    }
  });
  const io = new Server(server, { adapter: createAdapter(pub, sub), transports: ["websocket", "polling"] });
  io.on("connection", (socket) => {
    socket.on("id", (ack) => typeof ack === "function" && ack(socket.id));
    socket.on("join", (room, ack) => {
      socket.join(String(room));
      if (typeof ack === "function") ack(socket.id);
    });
    socket.on("leave", (room, ack) => {
      socket.leave(String(room));
      if (typeof ack === "function") ack(socket.id);
    });
    socket.on("room", (room, event, data, ack) => {
      io.to(String(room)).emit("event", { event, data, namespace: "/", room, from: socket.id });
      if (typeof ack === "function") ack(true);
    });
    socket.on("broadcast", (event, data) =>
      io.emit("event", { event, data, namespace: "/", room: null, from: socket.id }));
  });
  server.listen(port, "127.0.0.1", () => console.log(`socket.io listening on ${port}`));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
