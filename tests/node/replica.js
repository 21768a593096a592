// One Socket.IO replica: an independent server (no adapter), as GAQNO runs them.
// usage: node replica.js <port> <name> <protocol: 4 | 3> [socket.io path, protocol 4] [address]
//   address: 127.0.0.1 by default; the Docker-label tests give each "container" its own.
//   GET /v1/health -> 200; Socket.IO event "whoami" acks with <name>.
'use strict';
const http = require('http');
const [port, name, protocol, ioPath, address] = process.argv.slice(2);

const stats = { connections: 0, unknownSid: 0 };
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/v1/health')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok');
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
const host = address || '127.0.0.1';
server.listen(Number(port), host, () => console.log(`replica ${name} (protocol ${protocol}) on ${host}:${port}`));
