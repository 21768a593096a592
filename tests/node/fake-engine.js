// A stand-in engine.io backend for the bad-input table: answers every request with what
// it saw (x-seen-uri, x-seen-cookie) and, for handshakes, a body shaped by ?case=.
// usage: node fake-engine.js <port>
'use strict';
const http = require('http');
const zlib = require('zlib');
const [port] = process.argv.slice(2);
const open = '0{"sid":"FAKEsid0000000000001","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';

// Big enough for the huge-Cookie case (Node's default is 16 KiB).
http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
  const seen = { 'x-seen-uri': req.url, 'x-seen-cookie': req.headers.cookie || '' };
  if (req.url.startsWith('/v1/health')) { res.writeHead(200, seen); return res.end('ok'); }
  const q = new URL(req.url, 'http://x').searchParams;
  const text = { ...seen, 'content-type': 'text/plain; charset=UTF-8' };
  switch (q.get('case')) {
    case 'gzip': {
      const body = zlib.gzipSync(open);
      res.writeHead(200, { ...text, 'content-encoding': 'gzip', 'content-length': body.length });
      return res.end(body);
    }
    case 'error':
      res.writeHead(500, text);
      return res.end(open);
    case 'eio3': {
      const body = `${open.length}:${open}2:40`;
      res.writeHead(200, { ...text, 'content-length': Buffer.byteLength(body) });
      return res.end(body);
    }
    case 'not-engineio':
      res.writeHead(200, { ...text, 'content-length': 11 });
      return res.end('hello world');
    case 'many-cookies': {
      // The backend's own Set-Cookie values, ~3 KB together: more than the 2 KiB a guest
      // reads in one host call.
      const cookies = Array.from({ length: 6 }, (_, i) => `app${i}=${'v'.repeat(500)}; Path=/`);
      res.writeHead(200, { ...text, 'set-cookie': cookies, 'content-length': Buffer.byteLength(open) });
      return res.end(open);
    }
    case 'big': {
      const body = '0' + 'x'.repeat(100000);
      res.writeHead(200, { ...text, 'content-length': body.length });
      return res.end(body);
    }
    default:
      res.writeHead(200, { ...text, 'content-length': Buffer.byteLength(open) });
      return res.end(open);
  }
}).listen(Number(port), '127.0.0.1', () => console.log(`fake engine.io on ${port}`));
