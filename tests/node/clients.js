// Socket.IO clients, each a session that must stay on one replica.
// usage: node clients.js '<json options>'; prints one JSON summary line.
// options: url, count, rounds, intervalMs, transports, withCredentials, protocol (4|3),
//          reconnect, timeoutMs, concurrency, path, extraHeaders
'use strict';
const o = Object.assign(
  { count: 20, rounds: 4, intervalMs: 150, transports: ['polling'], withCredentials: false, protocol: 4,
    reconnect: false, timeoutMs: 20000, concurrency: 10, path: '/socket.io/' },
  JSON.parse(process.argv[2] || '{}'));

const connect = o.protocol === 3 ? require('sio2-client') : require('socket.io-client').io;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function session(i) {
  return new Promise((resolve) => {
    const result = { i, ok: false, answers: [], errors: [], reconnects: 0, transport: null, sid: null };
    const socket = connect(o.url, {
      path: o.path, transports: o.transports, forceNew: true, reconnection: o.reconnect,
      reconnectionDelay: 200, reconnectionDelayMax: 500, withCredentials: o.withCredentials,
      timeout: 5000, extraHeaders: o.extraHeaders,
    });
    const deadline = setTimeout(() => finish('timeout'), o.timeoutMs);
    let done = false;
    function finish(error) {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      if (error) result.errors.push(error);
      const engine = socket.io && socket.io.engine;
      result.transport = engine && engine.transport ? engine.transport.name : null;
      result.sid = engine ? engine.id : null;
      socket.close();
      resolve(result);
    }
    socket.on('connect_error', (e) => { result.errors.push('connect_error: ' + (e && e.message)); if (!o.reconnect) finish(); });
    socket.on('error', (e) => result.errors.push('error: ' + (e && e.message ? e.message : e)));
    socket.on('disconnect', (reason) => { if (!done) { result.errors.push('disconnect: ' + reason); if (!o.reconnect) finish(); } });
    (socket.io.on ? socket.io : socket).on('reconnect', () => { result.reconnects += 1; });
    socket.once('connect', async () => {
      for (let r = 0; r < o.rounds && !done; r++) {
        const name = await new Promise((res) => {
          const t = setTimeout(() => res(null), 4000);
          socket.emit('whoami', (n) => { clearTimeout(t); res(n); });
        });
        if (name === null) { result.errors.push('ack timeout'); if (!o.reconnect) return finish(); }
        else result.answers.push({ replica: name, epoch: result.reconnects });
        await sleep(o.intervalMs);
      }
      // Every answer since the last reconnect came from one replica: the session held.
      const last = result.answers.filter((a) => a.epoch === result.reconnects).map((a) => a.replica);
      result.ok = last.length > 0 && new Set(last).size === 1 &&
        (o.reconnect || (result.errors.length === 0 && result.answers.length === o.rounds));
      finish();
    });
  });
}

(async () => {
  const results = [];
  let next = 0;
  async function worker() { while (next < o.count) { const i = next++; results.push(await session(i)); } }
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.count) }, worker));
  const errors = {};
  for (const r of results) for (const e of r.errors) errors[e] = (errors[e] || 0) + 1;
  const byReplica = {};
  for (const r of results) for (const n of new Set(r.answers.map((a) => a.replica))) byReplica[n] = (byReplica[n] || 0) + 1;
  console.log(JSON.stringify({
    total: results.length,
    ok: results.filter((r) => r.ok).length,
    websocket: results.filter((r) => r.transport === 'websocket').length,
    reconnected: results.filter((r) => r.reconnects > 0).length,
    sessions: results.map((r) => ({ ok: r.ok, replicas: r.answers.map((a) => a.replica), reconnects: r.reconnects, transport: r.transport, sid: r.sid })),
    byReplica, errors,
  }));
  process.exit(0);
})();
