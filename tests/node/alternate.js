// Sends each HTTP request (and each WebSocket upgrade) to the next of several Traefiks in
// turn, so one Socket.IO session's requests are split between proxies that share nothing.
// usage: node alternate.js <listen port> <backend port> <backend port> ...
'use strict';
const http = require('http');
const net = require('net');
const [listen, ...backends] = process.argv.slice(2).map(Number);
let turn = 0;
const next = () => backends[turn++ % backends.length];
const seen = {};

const server = http.createServer((req, res) => {
  if (req.url === '/__alternate_stats') { res.writeHead(200); return res.end(JSON.stringify(seen)); }
  const port = next();
  seen[port] = (seen[port] || 0) + 1;
  const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent: false }, (up) => {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  upstream.on('error', () => { res.writeHead(502); res.end(); });
  req.pipe(upstream);
});
server.on('upgrade', (req, socket, head) => {
  const port = next();
  seen[port] = (seen[port] || 0) + 1;
  const upstream = net.connect(port, '127.0.0.1', () => {
    upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n` + Object.entries(req.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
    upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
});
server.listen(listen, '127.0.0.1', () => console.log(`alternating ${listen} -> ${backends.join(', ')}`));
