// Drives one npm @microsoft/signalr connection for the tests, JSON or MessagePack (@microsoft/signalr-protocol-msgpack).
// Usage: node signalr-driver.cjs <hub url> <json|messagepack>. Commands arrive as JSON lines on stdin
// ({"id": 1, "method": "Join", "args": ["room"]}); results ({"id": 1, "result": ...} or {"id": 1, "error": "..."})
// and every call the server makes ({"method": "event", "args": [...]}) leave as JSON lines on stdout.
// The packages are loaded from the directory in SIGNALR_MODULES (the gateway's node_modules).
const path = require('path');
const readline = require('readline');
const signalR = require(path.join(process.env.SIGNALR_MODULES, '@microsoft', 'signalr'));
const { MessagePackHubProtocol } = require(path.join(process.env.SIGNALR_MODULES, '@microsoft', 'signalr-protocol-msgpack'));

const [url, protocol] = process.argv.slice(2);
const send = message => process.stdout.write(JSON.stringify(message, (_, v) => typeof v === 'bigint' ? Number(v) : v) + '\n');

const builder = new signalR.HubConnectionBuilder()
  .withUrl(url, { transport: signalR.HttpTransportType.WebSockets })
  .configureLogging(signalR.LogLevel.None);
if (protocol === 'messagepack') builder.withHubProtocol(new MessagePackHubProtocol());
const connection = builder.build();
for (const method of ['event', 'roomClosed', 'disconnecting']) {
  connection.on(method, (...args) => send({ method, args }));
}
connection.onclose(error => send({ closed: error ? error.message : null }));

connection.start().then(
  () => send({ connected: true, connectionId: connection.connectionId ?? null }),
  error => { send({ connected: false, error: error.message }); process.exit(1); });

readline.createInterface({ input: process.stdin }).on('line', async line => {
  const command = JSON.parse(line);
  try {
    send({ id: command.id, result: await connection.invoke(command.method, ...(command.args ?? [])) ?? null });
  } catch (error) {
    send({ id: command.id, error: error.message });
  }
}).on('close', () => connection.stop().finally(() => process.exit(0)));
