// A stand-in for a Swarm manager's Engine API, enough for Traefik's Swarm provider (which
// polls: no events). One overlay network, one node, one service whose `Spec.Labels` are the
// compose file's `deploy.labels`, and its tasks, each a real replica process listening on its
// own loopback address. Traefik trusts the API's filters, so this honours them.
// usage: node swarm-api.js <port> <state.json>
//   state.json: { "service": { "id", "name", "labels": { … } },
//                 "tasks": [{ "id", "ip", "desired": "running" | "shutdown" }] }
//   PUT /_test/state (same JSON) replaces it; Traefik sees it at its next poll.
'use strict';
const http = require('http');
const fs = require('fs');

const [port, file] = process.argv.slice(2);
let state = JSON.parse(fs.readFileSync(file, 'utf8'));
const NETWORK = { Name: 'coolify-overlay', Id: 'ovl0', Scope: 'swarm', Driver: 'overlay' };
const NODE = { ID: 'node0', Status: { State: 'ready', Addr: '127.0.0.1' }, Spec: { Role: 'manager', Availability: 'active' } };

function service() {
  const s = state.service;
  return {
    ID: s.id,
    Version: { Index: 1 },
    Spec: {
      Name: s.name,
      Labels: s.labels,
      Mode: { Replicated: { Replicas: state.tasks.filter((t) => t.desired === 'running').length } },
      EndpointSpec: { Mode: 'vip' },
      TaskTemplate: { ContainerSpec: { Image: 'gaqno/replica:test' } },
    },
    Endpoint: { Spec: { Mode: 'vip' }, VirtualIPs: [{ NetworkID: NETWORK.Id, Addr: '127.0.0.250/8' }] },
  };
}

function task(t, i) {
  return {
    ID: t.id,
    ServiceID: state.service.id,
    Slot: i + 1,
    NodeID: NODE.ID,
    DesiredState: t.desired,
    Status: { State: 'running', Message: 'started' },
    // Addresses are CIDR strings: a bare IP is read as no address.
    NetworksAttachments: [{ Network: { ID: NETWORK.Id, Spec: { Name: NETWORK.Name } }, Addresses: [`${t.ip}/8`] }],
  };
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'api-version': '1.45' });
  res.end(JSON.stringify(body));
}

function filters(url) {
  try { return JSON.parse(url.searchParams.get('filters') || '{}'); } catch { return {}; }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://swarm');
  const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
  if (req.method === 'PUT' && path === '/_test/state') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => { state = JSON.parse(body); json(res, 200, { tasks: state.tasks.length }); });
    return;
  }
  if (path === '/_ping') {
    res.writeHead(200, { 'content-type': 'text/plain', 'api-version': '1.45', 'docker-experimental': 'false', 'ostype': 'linux', 'swarm': 'active/manager' });
    return res.end(req.method === 'HEAD' ? undefined : 'OK');
  }
  if (path === '/version') {
    return json(res, 200, { Version: '27.3.1', ApiVersion: '1.45', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', KernelVersion: '6.0.0' });
  }
  if (path === '/info') return json(res, 200, { ID: 'stand-in', Swarm: { LocalNodeState: 'active', ControlAvailable: true, NodeID: NODE.ID } });
  if (path === '/services') return json(res, 200, [service()]);
  if (path === '/networks') return json(res, 200, [NETWORK]);
  if (path === '/tasks') {
    const f = filters(url);
    const wantService = f.service ? Object.keys(f.service) : null;
    const wantDesired = f['desired-state'] ? Object.keys(f['desired-state']) : null;
    const tasks = state.tasks
      .map(task)
      .filter((t) => !wantService || wantService.includes(t.ServiceID))
      .filter((t) => !wantDesired || wantDesired.includes(t.DesiredState));
    return json(res, 200, tasks);
  }
  const node = path.match(/^\/nodes\/([^/]+)$/);
  if (node) return node[1] === NODE.ID ? json(res, 200, NODE) : json(res, 404, { message: `node ${node[1]} not found` });
  json(res, 404, { message: `stand-in Swarm API has no ${req.method} ${path}` });
});
server.listen(Number(port), '127.0.0.1', () => console.log(`swarm api on ${port}`));
