// A stand-in for the Docker Engine API, enough for Traefik's Docker provider: no Docker
// daemon runs in the tests. Each "container" is a real replica process listening on its own
// loopback address (127.0.0.2, 127.0.0.3, …), as containers on one Docker network would.
// usage: node docker-api.js <port> <containers.json>
//   containers.json: [{ "id", "name", "ip", "labels": { … } }]
//   PUT /_test/containers (same JSON) replaces them and sends the events Docker would
//   (start for a new or changed one, die for a removed one) to every open /events stream.
'use strict';
const http = require('http');
const fs = require('fs');

const [port, file] = process.argv.slice(2);
let containers = JSON.parse(fs.readFileSync(file, 'utf8'));
const streams = new Set();
const NETWORK = 'coolify';

function summary(c) {
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: 'gaqno/replica:test',
    ImageID: 'sha256:0',
    Command: 'node replica.js',
    Created: 1700000000,
    State: 'running',
    Status: 'Up 1 minute',
    Ports: [],
    Labels: c.labels,
    HostConfig: { NetworkMode: NETWORK },
    NetworkSettings: { Networks: { [NETWORK]: { IPAddress: c.ip, NetworkID: 'net0' } } },
  };
}

function inspect(c) {
  return {
    Id: c.id,
    Name: `/${c.name}`,
    Created: '2026-11-30T00:00:00Z',
    State: { Status: 'running', Running: true, Paused: false, Restarting: false, Dead: false, Pid: 1, ExitCode: 0 },
    Image: 'sha256:0',
    Config: { Hostname: c.name, Image: 'gaqno/replica:test', Labels: c.labels, ExposedPorts: {} },
    HostConfig: { NetworkMode: NETWORK, PortBindings: {} },
    NetworkSettings: {
      Ports: {},
      Networks: { [NETWORK]: { IPAddress: c.ip, NetworkID: 'net0', Aliases: [c.name] } },
    },
  };
}

function event(action, c) {
  const line = JSON.stringify({
    Type: 'container',
    Action: action,
    status: action,
    id: c.id,
    from: 'gaqno/replica:test',
    Actor: { ID: c.id, Attributes: { name: c.name, image: 'gaqno/replica:test' } },
    scope: 'local',
    time: Math.floor(Date.now() / 1000),
    timeNano: Date.now() * 1e6,
  });
  for (const res of streams) res.write(`${line}\n`);
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'api-version': '1.45' });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://docker');
  // Strip the negotiated version prefix (`/v1.45/...`).
  const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
  if (req.method === 'PUT' && path === '/_test/containers') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      const next = JSON.parse(body);
      const before = new Map(containers.map((c) => [c.id, c]));
      const after = new Map(next.map((c) => [c.id, c]));
      containers = next;
      for (const [id, c] of before) if (!after.has(id)) event('die', c);
      // New, or recreated with other labels (Docker gives those a new id; any event makes
      // Traefik list the containers again).
      for (const [id, c] of after) {
        const old = before.get(id);
        if (!old || JSON.stringify(old) !== JSON.stringify(c)) event('start', c);
      }
      json(res, 200, { containers: containers.length });
    });
    return;
  }
  if (path === '/_ping') {
    res.writeHead(200, { 'content-type': 'text/plain', 'api-version': '1.45', 'docker-experimental': 'false', 'ostype': 'linux' });
    return res.end(req.method === 'HEAD' ? undefined : 'OK');
  }
  if (path === '/version') {
    return json(res, 200, {
      Version: '27.3.1', ApiVersion: '1.45', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', KernelVersion: '6.0.0',
    });
  }
  if (path === '/info') {
    return json(res, 200, { ID: 'stand-in', Containers: containers.length, OperatingSystem: 'stand-in', ServerVersion: '27.3.1' });
  }
  if (path === '/containers/json') return json(res, 200, containers.map(summary));
  const match = path.match(/^\/containers\/([^/]+)\/json$/);
  if (match) {
    const c = containers.find((x) => x.id === match[1] || x.name === match[1]);
    return c ? json(res, 200, inspect(c)) : json(res, 404, { message: `No such container: ${match[1]}` });
  }
  if (path === '/events') {
    res.writeHead(200, { 'content-type': 'application/json', 'api-version': '1.45' });
    res.flushHeaders();
    streams.add(res);
    req.on('close', () => streams.delete(res));
    return;
  }
  if (path === '/networks') return json(res, 200, [{ Name: NETWORK, Id: 'net0' }]);
  json(res, 404, { message: `stand-in Docker API has no ${req.method} ${path}` });
});
server.listen(Number(port), '127.0.0.1', () => console.log(`docker api on ${port}`));
