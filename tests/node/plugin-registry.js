// A stand-in for Traefik's plugin registry (https://plugins.traefik.io/public/) on loopback.
// Traefik's plugin client uses Go's default transport, so with HTTPS_PROXY pointing here it
// sends `CONNECT plugins.traefik.io:443`; this answers the CONNECT itself and speaks TLS on
// the tunnel with a certificate for plugins.traefik.io signed by the test's CA (which
// Traefik trusts through SSL_CERT_FILE). Nothing leaves the machine.
//
// usage: node plugin-registry.js '<json options>'
// options: port, host (127.0.0.1 unless given: 0.0.0.0 inside a container), key, cert (PEM
// files), module, version, zip (the release asset to serve).
// Prints one JSON line per request: {method, path, hash} and, first, {listening: port}.
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const crypto = require('crypto');

const o = JSON.parse(process.argv[2]);
const zip = fs.readFileSync(o.zip);
const zipHash = crypto.createHash('sha256').update(zip).digest('hex');
const base = `/public/%s/${o.module}/${o.version}`;

const registry = https.createServer({ key: fs.readFileSync(o.key), cert: fs.readFileSync(o.cert) }, (req, res) => {
  const hash = req.headers['x-plugin-hash'] || null;
  console.log(JSON.stringify({ method: req.method, path: req.url, hash }));
  if (req.url === base.replace('%s', 'download')) {
    // Like the registry: 304 when the client already holds this archive.
    if (hash === zipHash) { res.writeHead(304); return res.end(); }
    res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': zip.length });
    return res.end(zip);
  }
  if (req.url === base.replace('%s', 'validate')) {
    res.writeHead(hash === zipHash ? 200 : 400);
    return res.end();
  }
  res.writeHead(404);
  res.end('unknown plugin');
});

const proxy = http.createServer((req, res) => { res.writeHead(405); res.end(); });
proxy.on('connect', (req, socket) => {
  console.log(JSON.stringify({ method: 'CONNECT', path: req.url }));
  if (req.url !== 'plugins.traefik.io:443') {
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    return;
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  registry.emit('connection', socket);
});
proxy.listen(o.port, o.host || '127.0.0.1', () => console.log(JSON.stringify({ listening: o.port })));
