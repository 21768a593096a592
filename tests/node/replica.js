// One Socket.IO replica: an independent server (no adapter), as GAQNO runs them.
// usage: node replica.js <port> <name> <protocol: 4 | 3> [socket.io path, protocol 4]
//   GET /v1/health -> 200; Socket.IO event "whoami" acks with <name>.
'use strict';
const http = require('http');
const [port, name, protocol, ioPath] = process.argv.slice(2);

const stats = { connections: 0, unknownSid: 0 };
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/v1/health')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok');
  }
  if (req.url.startsWith('/stats')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(stats));
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
  engine.on('connection_error', (err) => {
    if (err.code === 1) stats.unknownSid += 1;
  });
}
io.on('connection', (socket) => {
  stats.connections += 1;
  socket.on('whoami', (ack) => typeof ack === 'function' && ack(name));
});
server.listen(Number(port), '127.0.0.1', () => console.log(`replica ${name} (protocol ${protocol}) on ${port}`));
