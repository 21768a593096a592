// A stand-in for Docker's DNS under a network alias: each alias address forwards every new
// TCP connection to the container that holds the alias now. Coolify's rolling update starts
// the new container with the same alias, then stops the old one; connections already open
// stay with the container they reached, as they do through Docker.
// usage: node alias.js <control port> <aliases.json>
//   aliases.json: { "127.0.1.1:4008": "127.0.0.2:4008", … }
//   PUT /_test/alias with {"alias": "127.0.1.1:4008", "target": "127.0.0.5:4008"} moves one.
'use strict';
const net = require('net');
const http = require('http');
const fs = require('fs');

const [controlPort, file] = process.argv.slice(2);
const targets = JSON.parse(fs.readFileSync(file, 'utf8'));

function split(address) {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

for (const alias of Object.keys(targets)) {
  const [host, port] = split(alias);
  net.createServer((client) => {
    const [toHost, toPort] = split(targets[alias]);
    const upstream = net.connect(toPort, toHost);
    client.pipe(upstream).pipe(client);
    const close = () => { client.destroy(); upstream.destroy(); };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  }).listen(port, host);
}

http.createServer((req, res) => {
  if (req.method === 'PUT' && req.url === '/_test/alias') {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const { alias, target } = JSON.parse(body);
      targets[alias] = target;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(targets));
    });
    return;
  }
  if (req.url === '/_ping') { res.writeHead(200); return res.end('OK'); }
  res.writeHead(404);
  res.end();
}).listen(Number(controlPort), '127.0.0.1', () => console.log(`aliases on ${controlPort}`));
