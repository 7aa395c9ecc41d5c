// Drives npm socket.io-client sockets for the tests: commands arrive as JSON lines on stdin, answers and every
// event the sockets receive leave as JSON lines on stdout. Binary values travel as {"$binary": "<base64>"}.
// The client package is loaded from the directory in SOCKET_IO_CLIENT (the gateway's node_modules).
const { io } = require(process.env.SOCKET_IO_CLIENT);
const readline = require('readline');

const sockets = new Map();
const answers = new Map(); // "client/event" -> args to acknowledge with

const send = message => process.stdout.write(JSON.stringify(message) + '\n');

function toWire(value) {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return { $binary: Buffer.from(value instanceof ArrayBuffer ? new Uint8Array(value) : value).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  return value;
}

function fromWire(value) {
  if (Array.isArray(value)) return value.map(fromWire);
  if (value && typeof value === 'object') {
    if (typeof value.$binary === 'string') return Buffer.from(value.$binary, 'base64');
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromWire(v)]));
  }
  return value;
}

function connect(command) {
  const socket = io(command.url, { reconnection: false, forceNew: true, timeout: 10000, ...command.options });
  sockets.set(command.client, socket);
  socket.onAny((event, ...args) => {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? args.pop() : null;
    send({ client: command.client, event, args: toWire(args) });
    if (ack) {
      const reply = answers.get(command.client + '/' + event);
      if (reply) ack(...fromWire(reply));
    }
  });
  socket.on('disconnect', reason => send({ client: command.client, event: '$disconnect', args: [reason] }));
  // Every connection, the first and each reconnection, with whether socket.io-client says the state was recovered.
  socket.on('connect', () => send({ client: command.client, event: '$connect', args: [{ id: socket.id, recovered: !!socket.recovered }] }));
  socket.io.on('open', () => socket.io.engine.on('upgrade', t => send({ client: command.client, event: '$upgrade', args: [t.name] })));
  return new Promise(resolve => {
    socket.once('connect', () => resolve({ id: socket.id, transport: socket.io.engine.transport.name }));
    socket.once('connect_error', error => resolve({ error: error.message, data: error.data ?? null }));
  });
}

async function run(command) {
  const socket = sockets.get(command.client);
  switch (command.op) {
    case 'connect':
      return connect(command);
    case 'emit':
      if (command.ack) {
        // Every argument of the acknowledgement, as an array.
        return new Promise((resolve, reject) => socket.timeout(command.timeout ?? 10000).emit(command.event, ...fromWire(command.args ?? []),
          (error, ...reply) => error ? reject(error) : resolve(toWire(reply))));
      }
      socket.emit(command.event, ...fromWire(command.args ?? []));
      return null;
    case 'answer':
      answers.set(command.client + '/' + command.event, command.with ?? []);
      return null;
    case 'transport':
      return socket.io.engine ? socket.io.engine.transport.name : null;
    case 'disconnect':
      socket.disconnect();
      return null;
    case 'drop':
      // The connection is lost (the client's engine closes) and the client stays away until 'reconnect'.
      socket.io.reconnection(false);
      socket.io.engine.close();
      return null;
    case 'reconnect':
      return new Promise(resolve => {
        socket.once('connect', () => resolve({ id: socket.id, recovered: !!socket.recovered }));
        socket.once('connect_error', error => resolve({ error: error.message }));
        socket.io.reconnection(true);
        socket.connect();
      });
    case 'state':
      return { id: socket.id ?? null, connected: socket.connected, recovered: !!socket.recovered, engine: socket.io.engine ? socket.io.engine.id : null };
    default:
      throw new Error('unknown op ' + command.op);
  }
}

readline.createInterface({ input: process.stdin }).on('line', line => {
  const command = JSON.parse(line);
  run(command).then(
    result => send({ id: command.id, ok: true, result: result ?? null }),
    error => send({ id: command.id, ok: false, error: String(error && error.message || error) }));
}).on('close', () => {
  // Say goodbye, so that the server does not wait a ping timeout to drop polling sockets.
  for (const socket of sockets.values()) socket.disconnect();
  setTimeout(() => process.exit(0), 100);
});
send({ ready: true });
