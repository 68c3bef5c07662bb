/**
 * The start-up figure of the benchmark: how long a host waits from spawning its server to the
 * answer to `initialize`, with the server alone (direct), through the plain Node byte relay
 * (bench/byte-relay.mjs: what any proxy written for Node adds, its own Node start and a spawn) and
 * through `ratri mcp proxy` (monitor mode, no rules, the default store under RATRI_HOME), as hosts
 * spawn servers at every start. Each run is a new process (started and closed again); they are
 * interleaved, run after run, so drift on the machine hits all alike. Target: ratri ≤ direct +
 * 100 ms at the median.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { McpStdioClient } from './client.mjs';
import { byteRelay, everything, ratriCli } from './variants.mjs';

export const STARTUP_TARGET_MS = 100;

/** The ways a host starts the upstream: alone, through the byte relay, and through ratri with a config naming no store. */
export function startupVariants(dir) {
  const config = join(dir, 'startup.ratri.mcp.json');
  writeFileSync(
    config,
    JSON.stringify({ agentKey: 'bench-startup', mode: 'monitor', upstream: { command: process.execPath, args: [everything, 'stdio'] } }),
  );
  // Each build its own RATRI_HOME (and so its own default store): an older build refuses a store a
  // newer one has migrated.
  const through = (name, cli) => {
    const home = join(dir, `home-${name}`);
    mkdirSync(home, { recursive: true });
    return { name, command: process.execPath, args: [cli, 'mcp', 'proxy', '--config', config], env: { ...process.env, RATRI_HOME: home } };
  };
  const compare = process.env.BENCH_STARTUP_COMPARE;
  // BENCH_STARTUP_COMPARE=<another build's dist/cli/ratri.js>: that build too, interleaved with the others (before/after).
  return [
    { name: 'direct', command: process.execPath, args: [everything, 'stdio'] },
    { name: 'relay', command: process.execPath, args: [byteRelay, process.execPath, everything, 'stdio'] },
    through('ratri', ratriCli),
    ...(compare ? [through('compare', compare)] : []),
  ];
}

/** Spawn → initialize answered, in ms; the process is closed (stdin EOF) before this resolves. */
async function oneStart(v, timeoutMs, onClient) {
  const client = new McpStdioClient({
    name: `startup ${v.name}`,
    command: v.command,
    args: v.args,
    env: v.env,
    requestTimeoutMs: timeoutMs,
  });
  onClient(client);
  const started = performance.now();
  let ms;
  let exit;
  try {
    await client.start();
    await client.initialize();
    ms = performance.now() - started;
  } finally {
    exit = await client.close();
  }
  if (exit?.forced || exit?.code !== 0)
    throw new Error(`startup ${v.name}: did not exit cleanly after stdin EOF (${JSON.stringify(exit)})`);
  return ms;
}

/**
 * `runs` interleaved cold starts of each variant: { direct: {samplesMs, medianMs}, relay: {…}, ratri: {…},
 * differenceMs, pass }.
 * `onClient` sees every client before it starts (the benchmark kills them all on any exit path).
 */
export async function measureStartup(dir, runs, timeoutMs, onClient = () => undefined) {
  const variants = startupVariants(dir);
  const samples = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let i = 0; i < runs; i++) for (const v of variants) samples[v.name].push(await oneStart(v, timeoutMs, onClient));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const result = Object.fromEntries(variants.map((v) => [v.name, { samplesMs: samples[v.name], medianMs: median(samples[v.name]) }]));
  result.differenceMs = result.ratri.medianMs - result.direct.medianMs;
  result.pass = result.differenceMs <= STARTUP_TARGET_MS;
  return result;
}
