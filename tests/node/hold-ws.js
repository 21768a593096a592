// Opens <count> WebSocket-only Socket.IO connections and holds them for <holdMs>, for the
// memory benchmark. usage: node hold-ws.js <url> <path> <count> <holdMs>; prints connected.
'use strict';
const { io } = require('socket.io-client');
const [url, path, count, holdMs] = process.argv.slice(2);
const sockets = [];
let connected = 0;
for (let i = 0; i < Number(count); i++) {
  const s = io(url, { path, transports: ['websocket'], forceNew: true, reconnection: false });
  s.on('connect', () => { connected += 1; if (connected === Number(count)) console.log(`connected ${connected}`); });
  sockets.push(s);
}
setTimeout(() => { console.log(`holding ${connected}`); sockets.forEach((s) => s.close()); process.exit(0); }, Number(holdMs));
