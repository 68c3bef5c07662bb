/**
 * The HTTP part of the benchmark: the same raw Streamable HTTP client (bench/http-client.mjs) drives
 * server-everything's `echo` through four HTTP servers, in the same run, round-robin:
 *
 *   everything   server-everything's own Streamable HTTP (`index.js streamableHttp`): the HTTP baseline
 *   ratri        ratri's HTTP front (`ratri mcp proxy --transport http`, monitor mode, its own store)
 *   mcp-proxy    npm mcp-proxy's CLI (`mcp-proxy --port P --server stream -- node … stdio`)
 *   supergateway supergateway's stdio → Streamable HTTP (`--outputTransport streamableHttp --stateful`)
 *
 * The three proxies spawn server-everything over stdio. One session per server: sequential calls
 * for p50, then pipelined rounds (`inFlight` POSTs outstanding) for calls/s, the median round kept.
 * Every server is started in its own process group, and the group is killed at the end.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Session } from './http-client.mjs';
import { everything, ratriCli, root } from './variants.mjs';

const mcpProxyBin = join(root, 'node_modules', 'mcp-proxy', 'dist', 'bin', 'mcp-proxy.mjs');
const supergatewayBin = join(root, 'node_modules', 'supergateway', 'dist', 'index.js');

/** A port that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function defineServers(dir) {
  const node = process.execPath;
  const config = join(dir, 'http.ratri.mcp.json');
  writeFileSync(
    config,
    JSON.stringify({
      agentKey: 'bench-http',
      mode: 'monitor',
      store: join(dir, 'http.db'),
      upstream: { command: node, args: [everything, 'stdio'] },
    }),
  );
  const [p1, p2, p3, p4] = [await freePort(), await freePort(), await freePort(), await freePort()];
  return [
    {
      name: 'everything',
      label: "server-everything's own Streamable HTTP (baseline)",
      args: [everything, 'streamableHttp'],
      env: { PORT: String(p1) },
      port: p1,
    },
    {
      name: 'ratri',
      label: 'ratri HTTP front (monitor, events to its store)',
      args: [ratriCli, 'mcp', 'proxy', '--config', config, '--transport', 'http', '--port', String(p2)],
      env: { RATRI_HOME: dir },
      port: p2,
    },
    {
      name: 'mcp-proxy',
      label: 'npm mcp-proxy (--server stream)',
      args: [mcpProxyBin, '--port', String(p3), '--server', 'stream', '--', node, everything, 'stdio'],
      port: p3,
    },
    {
      name: 'supergateway',
      label: 'supergateway (stdio → Streamable HTTP, --stateful)',
      args: [
        supergatewayBin,
        '--stdio',
        `${node} ${everything} stdio`,
        '--outputTransport',
        'streamableHttp',
        '--stateful',
        '--port',
        String(p4),
      ],
      port: p4,
    },
  ].map((s) => ({ ...s, url: `http://127.0.0.1:${s.port}/mcp` }));
}

/** Starts the server (own process group) and opens a session once it answers initialize. */
async function start(s, timeoutMs, onChild) {
  s.child = spawn(process.execPath, s.args, { env: { ...process.env, ...s.env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  onChild(s.child);
  s.stderr = '';
  s.child.stderr.on('data', (c) => (s.stderr = (s.stderr + c.toString('utf8')).slice(-4000)));
  const deadline = performance.now() + 20_000;
  for (;;) {
    const session = new Session(s.url, { timeoutMs });
    try {
      await session.open();
      s.session = session;
      return;
    } catch (err) {
      if (s.child.exitCode !== null || performance.now() > deadline) {
        throw new Error(`http ${s.name}: did not answer initialize at ${s.url}: ${err.message}\n${s.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function echo(s, message) {
  const result = await s.session.request('tools/call', { name: 'echo', arguments: { message } });
  if (result?.content?.[0]?.text !== `Echo: ${message}`)
    throw new Error(`http ${s.name}: unexpected echo answer ${JSON.stringify(result).slice(0, 200)}`);
}

async function pipelined(s, total, inFlight, message) {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      await echo(s, message);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, worker));
  return performance.now() - started;
}

function stop(s) {
  return new Promise((resolve) => {
    if (!s.child || s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      try {
        process.kill(-s.child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 3000);
    s.child.once('exit', () => {
      clearTimeout(timer);
      try {
        process.kill(-s.child.pid, 'SIGKILL'); // what the server spawned, if it left anything
      } catch {
        // the group is empty
      }
      resolve();
    });
    process.kill(-s.child.pid, 'SIGTERM');
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/**
 * Measures every HTTP server; resolves with [{ name, label, p50Ms, throughput, throughputRounds }].
 * `o`: { calls, throughputCalls, inFlight, rounds, timeoutMs, message, onChild, log }.
 */
export async function measureHttpPeers(dir, o) {
  const servers = await defineServers(dir);
  try {
    for (const s of servers) {
      await start(s, o.timeoutMs, o.onChild);
      o.log(`http ${s.name}: up at ${s.url}`);
    }
    for (const s of servers) {
      for (let i = 0; i < 100; i++) await echo(s, o.message);
      await pipelined(s, Math.min(500, o.throughputCalls), o.inFlight, o.message);
    }
    for (const s of servers) s.samples = [];
    for (let c = 0; c < 4; c++) {
      for (const s of servers) {
        for (let i = 0; i < Math.ceil(o.calls / 4); i++) {
          const t = performance.now();
          await echo(s, o.message);
          s.samples.push(performance.now() - t);
        }
      }
    }
    for (const s of servers) s.rounds = [];
    for (let r = 0; r < o.rounds; r++) {
      for (const s of servers) s.rounds.push((o.throughputCalls / (await pipelined(s, o.throughputCalls, o.inFlight, o.message))) * 1000);
    }
    return servers.map((s) => ({
      name: s.name,
      label: s.label,
      p50Ms: median(s.samples),
      throughput: median(s.rounds),
      throughputRounds: s.rounds,
    }));
  } finally {
    await Promise.all(servers.map(stop));
  }
}
