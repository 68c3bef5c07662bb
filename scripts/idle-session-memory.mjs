#!/usr/bin/env node
// Measures what idle HTTP sessions cost (docs/http.md, "Idle sessions"): starts the built
// `ratri mcp proxy --transport http` on a config, opens N Streamable HTTP sessions that then do
// nothing (initialize + initialized, no DELETE, as the SDK's clients leave them), waits 5 s, and
// prints the resident memory of each upstream process and of ratri itself.
//   node scripts/idle-session-memory.mjs ratri.mcp.json [N=10]
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [config, count = '10'] = process.argv.slice(2);
if (!config) {
  process.stderr.write('usage: node scripts/idle-session-memory.mjs CONFIG [N]\n');
  process.exit(2);
}
const cli = fileURLToPath(new URL('../dist/cli/ratri.js', import.meta.url));
const ratri = spawn(process.execPath, [cli, 'mcp', 'proxy', '--config', config, '--transport', 'http', '--port', '0']);
let stderr = '';
ratri.stderr.on('data', (c) => (stderr += c));

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const childrenOf = (pid) =>
  readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
const post = (url, body, session) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(session ? { 'mcp-session-id': session } : {}),
    },
    body: JSON.stringify(body),
  });

while (!/at (http:\/\/\S+\/mcp)/.test(stderr)) {
  if (ratri.exitCode !== null) throw new Error(`ratri exited: ${stderr}`);
  await new Promise((r) => setTimeout(r, 100));
}
const url = /at (http:\/\/\S+\/mcp)/.exec(stderr)[1];
const before = rssKiB(ratri.pid);
for (let i = 0; i < Number(count); i++) {
  const init = await post(url, {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'idle', version: '1' } },
  });
  await init.text();
  await (await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, init.headers.get('mcp-session-id'))).text();
}
await new Promise((r) => setTimeout(r, 5000));
const upstreams = childrenOf(ratri.pid).map(rssKiB);
const mib = (kib) => Math.round((kib / 1024) * 10) / 10;
process.stdout.write(
  `${upstreams.length} idle sessions: ${mib(upstreams.reduce((a, b) => a + b, 0) / upstreams.length)} MiB per upstream process ` +
    `(${upstreams.map(mib).join(', ')}); ratri ${mib(before)} MiB before, ${mib(rssKiB(ratri.pid))} MiB after\n`,
);
ratri.kill('SIGTERM');
