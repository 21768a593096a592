// One Socket.IO replica: an independent server (no adapter), as GAQNO runs them.
// usage: node replica.js <port> <name> <protocol: 4 | 3> [socket.io path, protocol 4] [address]
//   name: `-` for the host name (a container's id: every replica of a compose service runs
//   the same command).
//   address: 127.0.0.1 by default; 0.0.0.0 in a container.
//   GET /v1/health -> 200; Socket.IO event "whoami" acks with <name>.
// REPLICA_ON_SIGTERM says what a stop signal does, the cases a real `docker stop` meets:
//   unset  no handler: as PID 1 in a container the signal is ignored (the kernel gives PID 1
//          no default action), so Docker kills the process when the grace period ends;
//   exit   exits at once, as an app that calls process.exit in its handler;
//   drain  keeps serving, health answers 503, REPLICA_DRAIN_MS later (5000 by default) it
//          closes every session with a close packet (clients see a server disconnect, not a
//          transport error) and exits when its last connection has closed (6.5 s at most):
//          what `io.disconnectSockets(true)` after a delay in NestJS's shutdown hook does.
// REPLICA_KEEP_ALIVE_MS: Node's `server.keepAliveTimeout` (Node's own 5 s by default);
//   `headersTimeout` a second above it, as the README's main.ts lines set them.
// REPLICA_HEALTH_DELAY_MS: how long GET /v1/health takes to answer (0 by default): an app
//   whose health check waits on a slow database.
'use strict';
const http = require('http');
const os = require('os');
const [port, nameArg, protocol, ioPath, address] = process.argv.slice(2);
const name = nameArg === '-' ? os.hostname() : nameArg;
let draining = false;

const stats = { connections: 0, unknownSid: 0 };
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/v1/health')) {
    const answer = () => {
      res.writeHead(draining ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(draining ? 'draining' : 'ok');
    };
    return setTimeout(answer, Number(process.env.REPLICA_HEALTH_DELAY_MS || 0));
  }
  if (req.url.startsWith('/stats')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    // `open`: engine.io sessions open right now.
    const open = engine ? engine.clientsCount : 0;
    return res.end(JSON.stringify({ ...stats, open }));
  }
  res.writeHead(404);
  res.end();
});

let io;
if (protocol === '3') {
  io = require('sio2')(server, { cookie: false });
} else {
  const { Server } = require('socket.io');
  io = new Server(server, { cors: { origin: '*' }, path: ioPath || '/socket.io/' });
}
const engine = protocol === '3' ? io.eio : io.engine;
if (engine && engine.on) {
  // One line per failed request or unexpected close, for the soak's post-mortem: which
  // cookie an unknown sid carried tells a routing fault from a session the client dropped.
  engine.on('connection_error', (err) => {
    if (err.code === 1) stats.unknownSid += 1;
    const req = err.req || { headers: {} };
    console.log(JSON.stringify({ t: Date.now(), error: err.message, url: req.url, cookie: req.headers.cookie }));
  });
  engine.on('connection', (socket) => {
    socket.on('close', (reason) => {
      if (reason !== 'transport close' && reason !== 'forced close') {
        console.log(JSON.stringify({ t: Date.now(), closed: socket.id, reason }));
      }
    });
  });
}
io.on('connection', (socket) => {
  stats.connections += 1;
  socket.on('whoami', (ack) => typeof ack === 'function' && ack(name));
});
const onSigterm = process.env.REPLICA_ON_SIGTERM;
if (onSigterm === 'exit') {
  process.on('SIGTERM', () => {
    console.log(JSON.stringify({ t: Date.now(), signal: 'SIGTERM', action: 'exit' }));
    process.exit(0);
  });
} else if (onSigterm === 'drain') {
  process.on('SIGTERM', () => {
    if (draining) return;
    draining = true;
    const ms = Number(process.env.REPLICA_DRAIN_MS || 5000);
    console.log(JSON.stringify({ t: Date.now(), signal: 'SIGTERM', action: 'drain', ms }));
    setTimeout(() => {
      // Every session is told to close: Socket.IO's disconnect (what
      // `io.disconnectSockets(true)` sends), then Engine.IO's close packet, which a polling
      // client gets on its next request. `io.close()` alone would drop the transports
      // without either. Then the server closes; the process ends with its last connection.
      if (io.disconnectSockets) io.disconnectSockets(true);
      for (const client of Object.values(engine.clients)) client.close();
      setTimeout(() => io.close(() => process.exit(0)), 1500);
      setTimeout(() => process.exit(0), 6500).unref();
    }, ms);
  });
}
if (process.env.REPLICA_KEEP_ALIVE_MS) {
  server.keepAliveTimeout = Number(process.env.REPLICA_KEEP_ALIVE_MS);
  server.headersTimeout = server.keepAliveTimeout + 1000;
}
const host = address || '127.0.0.1';
// REPLICA_LISTEN_DELAY_MS: how long the app boots before it listens (a NestJS app takes
// seconds to build its modules and connect to its databases); 0 by default.
setTimeout(
  () => server.listen(Number(port), host, () => console.log(`replica ${name} (protocol ${protocol}) on ${host}:${port}`)),
  Number(process.env.REPLICA_LISTEN_DELAY_MS || 0),
);
