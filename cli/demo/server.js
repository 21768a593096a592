// The Socket.IO demo `gaqno-lb rehearse` runs when it is given no application of its own:
// what a replica behind Traefik needs, in plain Node (NestJS does the same through
// `app.enableShutdownHooks()` and its HTTP server):
// - GET /v1/health answers at once (503 while draining, so Traefik stops sending new clients);
// - Node's keep-alive above Traefik's 90 s idle timeout;
// - on SIGTERM it keeps serving DRAIN_MS (3 s), then closes every session with a close
//   packet, so clients reconnect at once to another replica, and exits.
// Bundled with socket.io into one file by `cargo xtask` (esbuild), embedded in gaqno-lb, and
// run on the official `node` image.
'use strict';
const http = require('http');
const os = require('os');
const { Server } = require('socket.io');

const port = Number(process.env.PORT || 4008);
const drainMs = Number(process.env.DRAIN_MS || 3000);
let draining = false;

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/v1/health')) {
    res.writeHead(draining ? 503 : 200, { 'content-type': 'text/plain' });
    return res.end(draining ? 'draining' : 'ok');
  }
  res.writeHead(404);
  res.end();
});
server.keepAliveTimeout = 95_000; // above Traefik's 90 s idle timeout
server.headersTimeout = 96_000;

const io = new Server(server, { cors: { origin: '*' } });
io.on('connection', (socket) => {
  socket.on('whoami', (ack) => typeof ack === 'function' && ack(os.hostname()));
});

process.on('SIGTERM', () => {
  if (draining) return;
  draining = true;
  setTimeout(() => {
    io.disconnectSockets(true);
    for (const client of Object.values(io.engine.clients)) client.close();
    setTimeout(() => io.close(() => process.exit(0)), 1500);
    setTimeout(() => process.exit(0), 6500).unref();
  }, drainMs);
});

server.listen(port, '0.0.0.0', () => console.log(`demo on :${port}`));
