// The benchmarks' JavaScript load client: the connections of one scenario, opened with the npm SignalR client
// (@microsoft/signalr, for SignalR systems) or socket.io-client (for socket.io systems), as browser and Node apps
// use them. The harness (Bench/Clients/JsLoadClient.cs) drives it over standard input and output, one JSON object
// per line:
//   in:  the scenario  { protocol, urls, rooms: [{ name, members, senders }], window, messageSize }
//   out: { ready: connections }
//   in:  { phase, seconds, warmup, rate, slice }     rate: messages per second per sender, or null to saturate;
//                                                    slice: seconds between { slice } reports, or absent
//   out: { window: "open" } ... [{ slice: delivered so far } ...] { window: "close" } ... { phase, result: { delivered, seconds, latency } }
//   in:  { check: true }   out: { check: { sent, lost, duplicated, unexpected } }
// A message is "B|sender|sequence|sent (µs)|padding"; every receiver keeps a bitmap per sender, so every message is
// accounted for. Latency is measured from when a message was due (fixed rate) or sent (saturated).
"use strict";
const readline = require("node:readline");
const { performance } = require("node:perf_hooks");

const lines = readline.createInterface({ input: process.stdin });
const inbox = [];
let waiting = null;
lines.on("line", (line) => {
  if (waiting) {
    const resolve = waiting;
    waiting = null;
    resolve(JSON.parse(line));
  } else {
    inbox.push(JSON.parse(line));
  }
});
const next = () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((resolve) => (waiting = resolve)));
const say = (value) => process.stdout.write(JSON.stringify(value) + "\n");
const now = () => Math.round(performance.now() * 1000);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class SignalRClient {
  static signalR = require("@microsoft/signalr");

  async connect(url, onMessage) {
    const { HubConnectionBuilder, HttpTransportType, LogLevel } = SignalRClient.signalR;
    this.connection = new HubConnectionBuilder()
      .withUrl(url + "/realtime", { skipNegotiation: true, transport: HttpTransportType.WebSockets })
      .configureLogging(LogLevel.Error)
      .build();
    this.connection.on("event", (e) => onMessage(e.data));
    await this.connection.start();
  }

  join(room) {
    return this.connection.invoke("Join", room);
  }

  send(room, message) {
    return this.connection.send("SendToRoom", room, "m", message);
  }

  close() {
    return this.connection.stop();
  }
}

class SocketIOClient {
  static io = require("socket.io-client").io;

  connect(url, onMessage) {
    this.socket = SocketIOClient.io(url, { transports: ["websocket"], reconnection: false });
    this.socket.on("event", (e) => onMessage(e.data));
    return new Promise((resolve, reject) => {
      this.socket.once("connect", resolve);
      this.socket.once("connect_error", reject);
    });
  }

  join(room) {
    return this.socket.timeout(30000).emitWithAck("join", room);
  }

  send(room, message) {
    this.socket.emit("room", room, "m", message);
    return Promise.resolve();
  }

  close() {
    this.socket.close();
    return Promise.resolve();
  }
}

async function main() {
  const scenario = await next();
  const count = Math.max(...scenario.rooms.flatMap((r) => r.members)) + 1;
  const roomOf = new Array(count);
  const receivedBy = Array.from({ length: count }, () => new Map());
  const sent = new Map();
  const credits = new Map();
  const padding = "x".repeat(scenario.messageSize);
  let measuring = null;
  let delivered = 0;
  let unexpected = 0;

  for (const room of scenario.rooms) {
    for (const member of room.members) roomOf[member] = room.name;
  }

  const onMessage = (receiver) => (data) => {
    const parts = typeof data === "string" ? data.split("|") : [];
    if (parts[0] !== "B") {
      unexpected++;
      return;
    }

    const sender = Number(parts[1]);
    const sequence = Number(parts[2]);
    if (roomOf[sender] !== roomOf[receiver]) unexpected++;
    let bits = receivedBy[receiver].get(sender);
    if (!bits) receivedBy[receiver].set(sender, (bits = { seen: new Uint8Array(1024), duplicated: 0 }));
    if (sequence >= bits.seen.length) {
      const grown = new Uint8Array(Math.max(bits.seen.length * 2, sequence + 1));
      grown.set(bits.seen);
      bits.seen = grown;
    }

    if (bits.seen[sequence]) bits.duplicated++;
    bits.seen[sequence] = 1;
    delivered++;
    if (measuring) measuring.latencies.push(now() - Number(parts[3]));
    if (sender === receiver) credits.get(sender)?.release();
  };

  const clients = new Array(count);
  const open = async (i) => {
    const client = scenario.protocol === "socketio" ? new SocketIOClient() : new SignalRClient();
    await client.connect(scenario.urls[i % scenario.urls.length], onMessage(i));
    await client.join(roomOf[i]);
    clients[i] = client;
  };
  for (let i = 0; i < count; i += 32) {
    await Promise.all(Array.from({ length: Math.min(32, count - i) }, (_, j) => open(i + j)));
  }

  say({ ready: count });
  const senders = scenario.rooms.flatMap((r) => r.senders);
  for (const sender of senders) sent.set(sender, 0);

  const sendOne = (sender, due) => {
    const sequence = sent.get(sender);
    sent.set(sender, sequence + 1);
    return clients[sender].send(roomOf[sender], `B|${sender}|${sequence}|${due}|${padding}`);
  };

  for (;;) {
    const command = await next();
    if (command.check) {
      let lost = 0;
      let duplicated = 0;
      for (const room of scenario.rooms) {
        for (const member of room.members) {
          for (const sender of room.senders) {
            const bits = receivedBy[member].get(sender);
            for (let n = 0; n < sent.get(sender); n++) if (!bits || !bits.seen[n]) lost++;
            duplicated += bits ? bits.duplicated : 0;
          }
        }
      }

      say({ check: { sent: [...sent.values()].reduce((a, b) => a + b, 0), lost, duplicated, unexpected } });
      continue;
    }

    if (command.exit) break;

    // One phase: senders send (saturated: up to `window` of their own messages in flight), unmeasured for the
    // warm-up, then measured; then they stop and what is in flight arrives.
    let stopping = false;
    const loops = senders.map(async (sender) => {
      if (command.rate) {
        const interval = 1e6 / command.rate;
        let due = now() + Math.random() * interval;
        while (!stopping) {
          const wait = due - now();
          if (wait > 0) await sleep(wait / 1000);
          await sendOne(sender, Math.round(due));
          due += interval;
        }
      } else {
        let available = scenario.window;
        let wake = null;
        credits.set(sender, { release: () => { available++; if (wake) { const w = wake; wake = null; w(); } } });
        while (!stopping) {
          if (available === 0) {
            await Promise.race([new Promise((resolve) => (wake = resolve)), sleep(5000)]);
            if (available === 0) available = 1; // a lost message never returns its credit
            continue;
          }

          available--;
          await sendOne(sender, now());
        }
      }
    });

    await sleep(command.warmup * 1000);
    measuring = { latencies: [] };
    const before = delivered;
    const started = performance.now();
    say({ window: "open" });
    if (command.slice) {
      // A curve rather than one figure: how many deliveries each slice of the window had (a cold start's CPU per
      // delivery, second by second).
      for (let elapsed = 0; elapsed < command.seconds; elapsed += command.slice) {
        await sleep(command.slice * 1000);
        say({ slice: delivered - before });
      }
    } else {
      await sleep(command.seconds * 1000);
    }
    const window = measuring;
    measuring = null;
    const seconds = (performance.now() - started) / 1000;
    const inWindow = delivered - before;
    say({ window: "close" });
    stopping = true;
    await Promise.all(loops);
    credits.clear();

    let last = delivered;
    for (let quiet = 0; quiet < 20; quiet++) {
      await sleep(100);
      if (delivered !== last) {
        last = delivered;
        quiet = 0;
      }
    }

    const latencies = Float64Array.from(window.latencies).sort();
    const at = (q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : 0);
    say({ phase: command.phase, result: { delivered: inWindow, seconds, latency: { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: at(1) } } });
  }

  await Promise.all(clients.map((c) => c.close()));
  process.exit(0);
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
