#!/usr/bin/env node
/**
 * ratri benchmark: the same raw JSON-RPC client drives the same upstream MCP server
 * (@modelcontextprotocol/server-everything, tool `echo`) through six stdio paths, in one run:
 *
 *   direct   the client spawns the upstream itself (no middle process); writes nothing
 *   relay    bench/byte-relay.mjs: a plain Node byte pipe (the baseline every ratio is against); writes nothing
 *   mcp-proxy  bench/mcp-proxy-stdio.mjs: npm mcp-proxy's proxyServer (SDK Server ⇄ Client), the peer
 *   monitor  ratri mcp proxy, mode monitor, no rules; events to its SQLite store only
 *   enforce  ratri mcp proxy, mode enforce, 4 guardrail rules; events to a JSONL file and to its store
 *   store    ratri mcp proxy, mode enforce, the same 4 rules + the block_changed_tool_definitions
 *            template (one SELECT on the store's tool registry per tools/call); events to its store
 *            only (no JSONL): the default setup a user gets
 *
 * Every ratri variant has its own store (<temp dir>/<variant>.db, RATRI_HOME=<temp dir>), never the
 * user's ~/.ratri. After the run the stores are read back: how many events each holds, and for the
 * store variant the p50 of the `latencyMs` of its agent.guardrail.evaluated events (the guard
 * evaluation itself, target ≤ 0.2 ms), shown next to its p50 round trip minus monitor's and relay's.
 *
 * All variants are started up front and measured round-robin (variant A, B, C, D, E, A, B, …) so that
 * drift on the machine (other load, CPU frequency) hits every variant alike.
 *
 * Before them, the start-up figure (bench/startup.mjs): spawn → initialize answered, direct, through
 * the byte relay and through ratri, 10 interleaved cold starts each. After them, the HTTP part (bench/http-peers.mjs):
 * ratri's HTTP front, npm mcp-proxy and supergateway against server-everything's own Streamable HTTP.
 *
 * Usage: npm run bench            (builds dist/ first)
 *        node bench/run.mjs       (uses the existing dist/)
 * Knobs (environment variables, defaults in brackets):
 *   BENCH_WARMUP [200]             sequential warm-up calls per variant (plus one pipelined batch)
 *   BENCH_CALLS [2000]             sequential calls per variant for p50/p99
 *   BENCH_THROUGHPUT_CALLS [20000] calls per pipelined throughput round
 *   BENCH_IN_FLIGHT [32]           outstanding calls while pipelining
 *   BENCH_ROUNDS [3]               throughput rounds per variant (the median is reported)
 *   BENCH_BIG_BYTES [1048576]      size of the large echo message
 *   BENCH_BIG_CALLS [30]           large round trips per variant (the median is reported)
 *   BENCH_MEMORY_CALLS [100000]    calls between the two RSS readings
 *   BENCH_MEMORY_LIMIT_MB [20]     allowed RSS growth over BENCH_MEMORY_CALLS
 *   BENCH_TIMEOUT_MS [30000]       longest any single request may stay unanswered
 *   BENCH_WAIT_QUIET [0]           wait up to this many seconds for other processes to go quiet first
 *   BENCH_HTTP_CALLS [400]         sequential Streamable HTTP calls per HTTP server for p50 (0 skips the HTTP part)
 *   BENCH_HTTP_THROUGHPUT_CALLS [3000]  calls per pipelined HTTP round (BENCH_ROUNDS rounds)
 *   BENCH_HTTP_IN_FLIGHT [16]      outstanding HTTP requests while pipelining
 *   BENCH_STARTUP_RUNS [10]        cold starts each, direct, through the byte relay and through ratri, for the start-up figure (0 skips it)
 *   BENCH_STARTUP_COMPARE []       another build's dist/cli/ratri.js, started too in the start-up figure (before/after)
 *   BENCH_RATRI_COMPARE []         another build's dist/cli/ratri.js: its ratri variants are measured too, as <name>-before
 *   BENCH_VARIANTS [direct,relay,mcp-proxy,monitor,enforce,store,results]   subset to run (relay is always added)
 *   BENCH_OUT [bench/results/latest.json]
 *
 * Exit status: 0 when the benchmark ran (targets are reported, not asserted), 1 when something
 * failed (a variant did not start, a request errored or timed out, a process was left behind).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { McpStdioClient, RpcError } from './client.mjs';
import { measureHttpPeers } from './http-peers.mjs';
import { cpuMs, killTracked, machineCpuMs, processTree, readMemory } from './proc.mjs';
import { measureStartup, STARTUP_TARGET_MS } from './startup.mjs';
import { benchDir, defineVariants, everything, ratriCli, root } from './variants.mjs';

// ---------------------------------------------------------------------------------------------
// Settings

function intEnv(name, fallback, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${raw}: must be an integer ≥ ${min}`);
  return n;
}

const settings = readSettings();

function readSettings() {
  try {
    return readSettingsOrThrow();
  } catch (err) {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(2);
  }
}

function readSettingsOrThrow() {
  return {
    warmupCalls: intEnv('BENCH_WARMUP', 200, 0),
    latencyCalls: intEnv('BENCH_CALLS', 2000),
    throughputCalls: intEnv('BENCH_THROUGHPUT_CALLS', 20_000),
    inFlight: intEnv('BENCH_IN_FLIGHT', 32),
    throughputRounds: intEnv('BENCH_ROUNDS', 3),
    bigBytes: intEnv('BENCH_BIG_BYTES', 1024 * 1024),
    bigCalls: intEnv('BENCH_BIG_CALLS', 30),
    memoryCalls: intEnv('BENCH_MEMORY_CALLS', 100_000, 0),
    memoryLimitMb: intEnv('BENCH_MEMORY_LIMIT_MB', 20),
    requestTimeoutMs: intEnv('BENCH_TIMEOUT_MS', 30_000),
    waitQuietSeconds: intEnv('BENCH_WAIT_QUIET', 0, 0),
    startupRuns: intEnv('BENCH_STARTUP_RUNS', 10, 0),
    httpCalls: intEnv('BENCH_HTTP_CALLS', 400, 0),
    httpThroughputCalls: intEnv('BENCH_HTTP_THROUGHPUT_CALLS', 3000),
    httpInFlight: intEnv('BENCH_HTTP_IN_FLIGHT', 16),
  };
}
const outFile = resolve(process.env.BENCH_OUT || join(benchDir, 'results', 'latest.json'));

/** Targets, all relative to the byte relay. */
const TARGETS = {
  throughput: { min: 0.85, text: 'pipelined throughput ≥ 0.85× relay' },
  p50: { max: 1.2, text: 'p50 latency ≤ 1.2× relay' },
  big: { max: 1.2, text: '1 MB round trip ≤ 1.2× relay' },
  memory: { text: `RSS growth < ${settings.memoryLimitMb} MB over ${settings.memoryCalls} calls` },
  /** Absolute, not a ratio: the p50 of latencyMs in the store variant's agent.guardrail.evaluated events. */
  guardStore: { max: 0.2, text: 'guard evaluation on the store ≤ 0.2 ms p50' },
};

const ECHO_MESSAGE = 'hello from the ratri benchmark';

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** p50/p90/p99, mean and max of samples sorted in ascending order. */
function summarize(sorted) {
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    max: sorted[sorted.length - 1],
  };
}

function median(values) {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

const round = (x, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
const mb = (kb) => kb / 1024;

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
  return [line(header), '| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |', ...rows.map(line)].join('\n');
}

function log(message) {
  process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);
}
const t0 = performance.now();

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: every process the benchmark causes is recorded, so none can outlive it.

/** pid → { pid, start, comm, variant } for every process seen under a variant. */
const tracked = new Map();
const clients = [];
/** The HTTP servers, each the leader of its own process group. */
const httpChildren = [];

function track(variant) {
  if (!variant.client.pid) return;
  for (const p of processTree(variant.client.pid)) tracked.set(p.pid, { ...p, variant: variant.name });
  variant.processes = processTree(variant.client.pid);
}

function emergencyCleanup() {
  for (const c of clients) {
    try {
      c.child?.kill('SIGKILL');
    } catch {
      // gone
    }
  }
  killTracked([...tracked.values()], 'SIGKILL');
  for (const child of httpChildren) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is gone
    }
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`received ${signal}: killing every process the benchmark started`);
    emergencyCleanup();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
  });
}
process.on('exit', () => emergencyCleanup());

// ---------------------------------------------------------------------------------------------
// Phases

async function startVariant(v) {
  v.client = new McpStdioClient({
    name: v.name,
    command: v.command,
    args: v.args,
    env: v.env,
    requestTimeoutMs: settings.requestTimeoutMs,
  });
  clients.push(v.client);
  const started = performance.now();
  await v.client.start();
  try {
    await handshake(v);
  } catch (err) {
    track(v); // whatever it managed to start is killed at the end
    throw err;
  }
  v.startupMs = performance.now() - started;
  if (v.enforce) {
    // Prove the policy is live, or the enforce numbers would measure nothing.
    try {
      await v.client.callTool('get-env', {});
      throw new Error(`${v.name}: get-env was not blocked: is the enforce config applied?`);
    } catch (err) {
      if (!(err instanceof RpcError) || err.code !== -32001) throw err;
    }
  }
  if (v.toolRegistry) {
    // The handshake listed the tools through the proxy, so the per-call lookup of
    // block_changed_tool_definitions finds a row (and measures a hit, not a miss).
    const row = withStore(v.storeFile, (db) =>
      db
        .prepare(
          "SELECT definition_hash = trusted_hash AS trusted FROM tools WHERE agent_key = 'bench' AND server_name = 'everything' AND name = 'echo'",
        )
        .get(),
    );
    if (!row) throw new Error(`${v.name}: the store's tool registry has no row for echo after tools/list (${v.storeFile})`);
    if (row.trusted !== 1) throw new Error(`${v.name}: the registry marks echo as changed; its calls would be blocked`);
  }
  // The tree is complete now (ratri spawns the upstream before it answers initialize).
  track(v);
  const expected = v.name === 'direct' ? 1 : 2;
  if (v.processes.length < expected) {
    throw new Error(
      `${v.name}: expected ${expected} process(es) under pid ${v.client.pid}, found ${v.processes.map((p) => `${p.pid} ${p.comm}`).join(', ')}`,
    );
  }
  log(`${v.name}: up in ${v.startupMs.toFixed(0)} ms, pids ${v.processes.map((p) => p.pid).join(' → ')}`);
}

/** initialize → notifications/initialized → tools/list → one echo, checking each answer. */
async function handshake(v) {
  const init = await v.client.initialize();
  if (init?.protocolVersion !== '2025-06-18') {
    log(`${v.name}: note: server answered protocolVersion ${JSON.stringify(init?.protocolVersion)}`);
  }
  const list = await v.client.request('tools/list', {});
  const tools = (list.result?.tools ?? []).map((t) => t.name);
  if (!tools.includes('echo')) throw new Error(`${v.name}: the upstream does not list an "echo" tool (got: ${tools.join(', ')})`);
  const answer = await v.client.callEcho(ECHO_MESSAGE);
  const text = answer.result?.content?.[0]?.text;
  if (text !== `Echo: ${ECHO_MESSAGE}`)
    throw new Error(`${v.name}: unexpected echo answer: ${JSON.stringify(answer.result).slice(0, 300)}`);
}

async function sequential(v, calls, samples) {
  for (let i = 0; i < calls; i++) {
    const { sentAt, receivedAt } = await v.client.callEcho(ECHO_MESSAGE);
    samples?.push(receivedAt - sentAt);
  }
}

async function warmUp(variants, bigMessage) {
  for (const v of variants) {
    await sequential(v, settings.warmupCalls);
    await v.client.pipelinedEcho(Math.min(2000, settings.throughputCalls), settings.inFlight, ECHO_MESSAGE);
    for (let i = 0; i < 2; i++) await bigEcho(v, bigMessage);
  }
}

async function measureLatency(variants) {
  const chunks = Math.min(4, settings.latencyCalls);
  for (const v of variants) v.latencySamples = [];
  for (let c = 0; c < chunks; c++) {
    const n = Math.floor(settings.latencyCalls / chunks) + (c < settings.latencyCalls % chunks ? 1 : 0);
    for (const v of variants) await sequential(v, n, v.latencySamples);
  }
  for (const v of variants) {
    const s = [...v.latencySamples].sort((a, b) => a - b);
    v.latency = { calls: s.length, ...summarize(s) };
    delete v.latencySamples;
  }
}

/**
 * Pipelined calls, round-robin over the variants. Besides calls/s, the CPU time each process of the
 * variant used during the rounds is read from /proc: CPU per call does not depend on how the
 * machine scheduled the processes, so it shows the proxy's own cost even on a busy machine.
 */
async function measureThroughput(variants) {
  for (const v of variants) {
    v.throughputRounds = [];
    v.cpuRoundsMs = v.processes.map(() => 0);
  }
  for (let r = 0; r < settings.throughputRounds; r++) {
    for (const v of variants) {
      const before = v.processes.map((p) => cpuMs(p.pid));
      const ms = await v.client.pipelinedEcho(settings.throughputCalls, settings.inFlight, ECHO_MESSAGE);
      const after = v.processes.map((p) => cpuMs(p.pid));
      v.throughputRounds.push((settings.throughputCalls / ms) * 1000);
      after.forEach((a, i) => (v.cpuRoundsMs[i] += a - before[i]));
    }
  }
  const calls = settings.throughputCalls * settings.throughputRounds;
  for (const v of variants) {
    v.throughput = median(v.throughputRounds);
    const perCall = v.cpuRoundsMs.map((ms) => (ms * 1000) / calls);
    // processes[0] is the process the client spawned; the upstream is the last one in the tree.
    v.cpuPerCallUs = { proxy: v.proxy ? perCall[0] : null, upstream: perCall[perCall.length - 1], byProcess: perCall };
    delete v.cpuRoundsMs;
  }
}

async function bigEcho(v, message) {
  const { result, sentAt, receivedAt } = await v.client.callEcho(message);
  const text = result?.content?.[0]?.text;
  if (typeof text !== 'string' || text.length !== message.length + 6) {
    throw new Error(`${v.name}: the large echo came back wrong (${typeof text === 'string' ? `${text.length} chars` : typeof text})`);
  }
  return receivedAt - sentAt;
}

async function measureBig(variants, message) {
  for (const v of variants) v.bigSamples = [];
  for (let i = 0; i < settings.bigCalls; i++) {
    for (const v of variants) v.bigSamples.push(await bigEcho(v, message));
  }
  for (const v of variants) v.big = median(v.bigSamples);
}

/**
 * RSS of the proxy process over BENCH_MEMORY_CALLS pipelined calls, read every 1000 calls. A single
 * reading lands anywhere on the garbage collector's sawtooth (10–15 MB high), so "before" is the
 * median of the readings over the first 10% of the calls and "after" the median over the last 10%;
 * a leak moves the whole sawtooth up and shows in the difference.
 */
async function measureMemory(variants) {
  const chunk = 1000;
  for (const v of variants) {
    if (!v.proxy || v.skipMemory || settings.memoryCalls === 0) continue;
    const pid = v.client.pid;
    // Settle first, so the first readings are taken in the same state as the last ones.
    await v.client.pipelinedEcho(Math.min(10_000, settings.memoryCalls), settings.inFlight, ECHO_MESSAGE);
    const samples = [];
    const started = performance.now();
    for (let done = 0; done < settings.memoryCalls; ) {
      const n = Math.min(chunk, settings.memoryCalls - done);
      await v.client.pipelinedEcho(n, settings.inFlight, ECHO_MESSAGE);
      done += n;
      samples.push({ calls: done, rssKb: readMemory(pid).rssKb });
    }
    const peak = readMemory(pid).hwmKb;
    const window = Math.max(1, Math.floor(samples.length / 10));
    const before = median(samples.slice(0, window).map((s) => s.rssKb));
    const after = median(samples.slice(-window).map((s) => s.rssKb));
    v.memory = {
      pid,
      calls: settings.memoryCalls,
      seconds: (performance.now() - started) / 1000,
      windowReadings: window,
      rssBeforeKb: before,
      rssAfterKb: after,
      rssMinKb: Math.min(...samples.map((s) => s.rssKb)),
      rssMaxKb: Math.max(...samples.map((s) => s.rssKb)),
      rssPeakKb: peak,
      growthKb: after - before,
      samples,
    };
    const every = Math.max(1, Math.floor(samples.length / 10));
    log(
      `${v.name}: RSS ${mb(before).toFixed(1)} → ${mb(after).toFixed(1)} MB over ${settings.memoryCalls} calls ` +
        `(${v.memory.seconds.toFixed(1)} s; every ${every * chunk} calls: ${samples
          .filter((_, i) => (i + 1) % every === 0)
          .map((s) => mb(s.rssKb).toFixed(0))
          .join(' ')})`,
    );
  }
}

/** Opens a variant's store read-only, runs `fn` on it and closes it again. */
function withStore(file, fn) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** What a variant's store holds after the run: events, size on disk, and its guard evaluation latencies. */
function readStore(v) {
  const bytes = ['', '-wal'].reduce((sum, suffix) => sum + (existsSync(v.storeFile + suffix) ? statSync(v.storeFile + suffix).size : 0), 0);
  return withStore(v.storeFile, (db) => {
    // A store of schema 3 keeps each tool call as one row of `calls` (docs/events.md#one-record-per-call).
    const hasCalls = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'calls'").pluck().get() === 1;
    const calls = hasCalls
      ? db.prepare('SELECT count(*) AS rows, coalesce(sum(events), 0) AS events FROM calls').get()
      : { rows: 0, events: 0 };
    const events = db.prepare('SELECT count(*) FROM events').pluck().get() + calls.events;
    const byType = Object.fromEntries(
      db
        .prepare('SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY n DESC')
        .all()
        .map((r) => [r.type, r.n]),
    );
    if (hasCalls) byType['calls (rows)'] = calls.rows;
    const fromEvents = db
      .prepare("SELECT json_extract(data,'$.latencyMs') FROM events WHERE type='agent.guardrail.evaluated'")
      .pluck()
      .all();
    const fromCalls = hasCalls ? db.prepare('SELECT latency_ms FROM calls').pluck().all() : [];
    const latencies = Float64Array.from(fromEvents.concat(fromCalls).filter((x) => typeof x === 'number')).sort();
    const guard = latencies.length === 0 ? null : { count: latencies.length, ...summarize(latencies) };
    return { events, bytes, byType, guardLatencyMs: guard };
  });
}

/** The issue's question: guard evaluation on the embedded store, and what the store variant costs end to end. */
function guardEvaluation(variants) {
  const v = variants.find((x) => x.name === 'store');
  if (!v?.store) return null;
  const monitor = variants.find((x) => x.name === 'monitor');
  const relay = variants.find((x) => x.name === 'relay');
  const p50 = v.store.guardLatencyMs?.p50 ?? NaN;
  return {
    variant: v.name,
    guardLatencyP50Ms: p50,
    guardEvaluations: v.store.guardLatencyMs?.count ?? 0,
    pass: Number.isFinite(p50) ? p50 <= TARGETS.guardStore.max : null,
    p50MinusMonitorMs: monitor ? v.latency.p50 - monitor.latency.p50 : NaN,
    p50MinusRelayMs: v.latency.p50 - relay.latency.p50,
  };
}

function countLines(file) {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let lines = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      for (let i = buf.indexOf(10, 0); i !== -1 && i < n; i = buf.indexOf(10, i + 1)) lines++;
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}

/** Closes every variant like a host would, then checks that no process of it is left. */
async function shutDown(variants) {
  const problems = [];
  for (const v of variants) {
    if (!v.client?.child) continue;
    const started = performance.now();
    const exit = await v.client.close();
    v.shutdown = { ...exit, ms: round(performance.now() - started, 0) };
    if (exit.forced) problems.push(`${v.name}: did not exit after stdin EOF; needed ${exit.forced}`);
    else if (exit.code !== 0)
      problems.push(`${v.name}: exited with ${exit.code !== null ? `code ${exit.code}` : `signal ${exit.signal}`} after stdin EOF`);
  }
  // Give grandchildren a moment (ratri waits for its upstream before it exits, so this is a safety margin).
  const deadline = performance.now() + 3000;
  let alive = killTracked([...tracked.values()], null);
  while (alive.length > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    alive = killTracked([...tracked.values()], null);
  }
  for (const p of alive) problems.push(`${p.variant}: pid ${p.pid} (${p.comm}) outlived the benchmark session: orphan, killed`);
  killTracked(alive, 'SIGKILL');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Report

function verdicts(v, relay) {
  const r = {
    throughputRatio: v.throughput / relay.throughput,
    p50Ratio: v.latency.p50 / relay.latency.p50,
    bigRatio: v.big / relay.big,
  };
  if (!v.ratri) return { ratios: r };
  const pass = {
    throughput: r.throughputRatio >= TARGETS.throughput.min,
    p50: r.p50Ratio <= TARGETS.p50.max,
    big: r.bigRatio <= TARGETS.big.max,
    memory: v.memory ? v.memory.growthKb < settings.memoryLimitMb * 1024 : null,
  };
  return { ratios: r, pass };
}

const pf = (ok) => (ok === null || ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL');

/** The HTTP lines of the report: every ratio is against server-everything's own Streamable HTTP. */
function httpLines(http) {
  const base = http.find((s) => s.name === 'everything');
  return [
    `HTTP (Streamable HTTP, one session each; ${settings.httpCalls} sequential calls, ${settings.throughputRounds}×${settings.httpThroughputCalls} with ${settings.httpInFlight} in flight, median round):`,
    '',
    table(
      ['server', 'p50 ms', `calls/s (${settings.httpInFlight} in flight)`, 'calls/s × baseline', 'p50 × baseline'],
      http.map((s) => [
        s.label,
        s.p50Ms.toFixed(3),
        Math.round(s.throughput).toString(),
        `${(s.throughput / base.throughput).toFixed(2)}×`,
        `${(s.p50Ms / base.p50Ms).toFixed(2)}×`,
      ]),
    ),
    '',
  ];
}

/** The start-up lines of the report: spawn → initialize answered, direct, through the byte relay and through ratri. */
function startupLines(startup) {
  const ms = (x) => `${x.toFixed(0)} ms`;
  return [
    `Start-up (spawn → initialize answered, median of ${startup.direct.samplesMs.length} cold starts each, interleaved):`,
    '',
    table(
      [
        'server-everything alone',
        'through the byte relay',
        'through ratri mcp proxy (monitor, default store)',
        'difference (relay; ratri)',
        `ratri ≤ direct + ${STARTUP_TARGET_MS} ms`,
      ],
      [
        [
          ms(startup.direct.medianMs),
          ms(startup.relay.medianMs),
          ms(startup.ratri.medianMs),
          `+${ms(startup.relay.medianMs - startup.direct.medianMs)}; +${ms(startup.differenceMs)}`,
          pf(startup.pass),
        ],
      ],
    ),
    '',
    ...(startup.compare
      ? [
          `BENCH_STARTUP_COMPARE ${process.env.BENCH_STARTUP_COMPARE}: ${ms(startup.compare.medianMs)} (+${ms(startup.compare.medianMs - startup.direct.medianMs)} over the server alone)`,
          '',
        ]
      : []),
  ];
}

function report(variants, machine, problems, load, startup, http) {
  const relay = variants.find((v) => v.name === 'relay');
  const rows = variants.map((v) => {
    const { ratios, pass } = verdicts(v, relay);
    v.ratios = ratios;
    v.pass = pass;
    const rss = v.memory
      ? `${mb(v.memory.rssBeforeKb).toFixed(1)} → ${mb(v.memory.rssAfterKb).toFixed(1)} (${v.memory.growthKb >= 0 ? '+' : ''}${mb(v.memory.growthKb).toFixed(1)})`
      : '—';
    return [
      v.label,
      v.latency.p50.toFixed(3),
      v.latency.p99.toFixed(3),
      Math.round(v.throughput).toString(),
      v.cpuPerCallUs.proxy === null ? '—' : v.cpuPerCallUs.proxy.toFixed(1),
      v.big.toFixed(1),
      rss,
      `${ratios.throughputRatio.toFixed(2)}×`,
      `${ratios.p50Ratio.toFixed(2)}×`,
      `${ratios.bigRatio.toFixed(2)}×`,
    ];
  });
  const main = table(
    [
      'variant',
      'p50 ms',
      'p99 ms',
      `calls/s (${settings.inFlight} in flight)`,
      'proxy CPU µs/call',
      '1 MB RTT ms',
      'proxy RSS MB before → after',
      'thr/relay',
      'p50/relay',
      '1MB/relay',
    ],
    rows,
  );
  const targetRows = variants
    .filter((v) => v.ratri)
    .map((v) => [
      v.label,
      `${pf(v.pass.throughput)} (${v.ratios.throughputRatio.toFixed(2)}×)`,
      `${pf(v.pass.p50)} (${v.ratios.p50Ratio.toFixed(2)}×)`,
      `${pf(v.pass.big)} (${v.ratios.bigRatio.toFixed(2)}×)`,
      v.memory ? `${pf(v.pass.memory)} (${v.memory.growthKb >= 0 ? '+' : ''}${mb(v.memory.growthKb).toFixed(1)} MB)` : 'n/a',
    ]);
  const targets = table(['variant', TARGETS.throughput.text, TARGETS.p50.text, TARGETS.big.text, TARGETS.memory.text], targetRows);
  const lines = [
    '',
    `ratri benchmark (ratri ${machine.commit ?? 'unknown commit'}) — ${machine.cpus} CPU(s) (${machine.cpuModel}), ${machine.memoryGb} GB, ${machine.platform} ${machine.release}, Node ${machine.node}`,
    `upstream: @modelcontextprotocol/server-everything ${machine.everythingVersion}, tool echo; ` +
      `${settings.latencyCalls} sequential calls, ${settings.throughputRounds}×${settings.throughputCalls} pipelined (median round), ` +
      `${settings.bigCalls}× ${settings.bigBytes}-byte echo (median), RSS over ${settings.memoryCalls} calls`,
    '',
    main,
    '',
    'Targets (ratios against the byte relay measured in this run):',
    '',
    targets,
    '',
  ];
  if (startup) lines.push(...startupLines(startup));
  if (http) lines.push(...httpLines(http));
  const guard = guardEvaluation(variants);
  if (guard) {
    const ms = (x) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(3)} ms` : 'n/a');
    lines.push(
      table(
        ['variant', TARGETS.guardStore.text, 'p50 round trip − monitor', 'p50 round trip − relay'],
        [
          [
            variants.find((v) => v.name === 'store').label,
            `${pf(guard.pass)} (${Number.isFinite(guard.guardLatencyP50Ms) ? guard.guardLatencyP50Ms.toFixed(3) : 'n/a'} ms over ${guard.guardEvaluations} evaluations)`,
            ms(guard.p50MinusMonitorMs),
            ms(guard.p50MinusRelayMs),
          ],
        ],
      ),
      '',
    );
  }
  for (const v of variants) {
    if (v.telemetry) {
      lines.push(
        `${v.name} telemetry: ${v.telemetry.events} events, ${(v.telemetry.bytes / 1024 / 1024).toFixed(1)} MB written to the JSONL sink`,
      );
    }
  }
  for (const v of variants) {
    if (!v.store) continue;
    const g = v.store.guardLatencyMs;
    lines.push(
      `${v.name} variant's store: ${v.store.events} events, ${(v.store.bytes / 1024 / 1024).toFixed(1)} MB on disk` +
        (g
          ? `; guard evaluation latencyMs p50 ${g.p50.toFixed(3)} p90 ${g.p90.toFixed(3)} p99 ${g.p99.toFixed(3)} (${g.count} events)`
          : ''),
    );
  }
  if (load) {
    lines.push(
      `load during the measurement (${load.seconds} s): benchmark processes ${load.oursCpus} CPU(s), other processes ${load.otherCpus} CPU(s), steal ${load.stealCpus}` +
        (load.otherCpus > 0.1 || load.stealCpus > 0.05 ? '  ← NOT QUIET: rerun on an idle machine for numbers to publish' : ''),
    );
  }
  for (const p of problems) lines.push(`PROBLEM: ${p}`);
  return lines.join('\n');
}

function machineInfo() {
  const cpus = os.cpus();
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--', 'lib', 'cli'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (changed) commit += ' (+ uncommitted changes in lib/ or cli/)';
  } catch {
    // not a git checkout
  }
  let everythingVersion = 'unknown';
  try {
    everythingVersion = JSON.parse(readFileSync(join(dirname(dirname(everything)), 'package.json'), 'utf8')).version;
  } catch {
    // keep unknown
  }
  return {
    cpus: cpus.length,
    availableParallelism: os.availableParallelism?.() ?? cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    memoryGb: round(os.totalmem() / 1024 ** 3, 1),
    platform: os.platform(),
    release: os.release(),
    node: process.versions.node,
    everythingVersion,
    commit,
  };
}

// ---------------------------------------------------------------------------------------------

/** CPU time used so far by the benchmark and every process it started, in ms. */
function ourCpuMs() {
  const self = process.cpuUsage();
  let total = (self.user + self.system) / 1000;
  for (const p of tracked.values()) {
    const ms = cpuMs(p.pid);
    if (Number.isFinite(ms)) total += ms;
  }
  return total;
}

/**
 * Load from outside the benchmark (other processes) between two snapshots, in CPUs: the machine's
 * busy time minus ours, divided by the wall time. On a 2-core machine, anything else running skews
 * every number, so the report says how much there was.
 */
function loadSnapshot() {
  return { at: performance.now(), machine: machineCpuMs(), ours: ourCpuMs() };
}

function foreignLoad(a, b) {
  const wallMs = b.at - a.at;
  const busy = b.machine.busy - a.machine.busy;
  const ours = b.ours - a.ours;
  return {
    seconds: round(wallMs / 1000, 1),
    otherCpus: round(Math.max(0, busy - ours) / wallMs, 2),
    oursCpus: round(ours / wallMs, 2),
    stealCpus: round((b.machine.steal - a.machine.steal) / wallMs, 2),
  };
}

async function main() {
  for (const [what, path] of [
    ['the built CLI (run "npm run build")', ratriCli],
    ['@modelcontextprotocol/server-everything (run "npm install")', everything],
  ]) {
    if (!existsSync(path)) throw new Error(`missing ${what}: ${path}`);
  }
  const machine = machineInfo();
  const tmp = mkdtempSync(join(os.tmpdir(), 'ratri-bench-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true })); // configs and the events file, on every exit path
  const variants = defineVariants(tmp);
  const bigMessage = makeBigMessage(settings.bigBytes);
  log(`machine: ${machine.cpus} CPU(s), ${machine.cpuModel}, Node ${machine.node}; temp dir ${tmp}`);
  log(`settings: ${JSON.stringify(settings)}`);
  let problems = [];
  // Is anything else running? Optionally wait for the machine to calm down (BENCH_WAIT_QUIET seconds).
  // Quiet means three consecutive seconds with less than 0.1 CPU used by anything else.
  const waitUntil = performance.now() + settings.waitQuietSeconds * 1000;
  for (let quiet = 0; quiet < 3; ) {
    const a = loadSnapshot();
    await new Promise((r) => setTimeout(r, 1000));
    const idle = foreignLoad(a, loadSnapshot());
    if (idle.otherCpus <= 0.1) {
      quiet++;
      continue;
    }
    quiet = 0;
    if (performance.now() >= waitUntil) {
      log(`WARNING: other processes are using ${idle.otherCpus} CPU(s) of ${machine.cpus} right now; results will be noisy`);
      break;
    }
    log(`waiting for a quiet machine: other processes use ${idle.otherCpus} CPU(s)`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  let load;
  let startup;
  try {
    if (settings.startupRuns > 0) {
      log(`start-up: ${settings.startupRuns} cold starts each, direct, through the byte relay and through ratri`);
      startup = await measureStartup(tmp, settings.startupRuns, settings.requestTimeoutMs, (c) => clients.push(c));
      log(
        `start-up: direct ${startup.direct.medianMs.toFixed(0)} ms, relay ${startup.relay.medianMs.toFixed(0)} ms, ratri ${startup.ratri.medianMs.toFixed(0)} ms (median)`,
      );
    }
    for (const v of variants) await startVariant(v);
    const measureStart = loadSnapshot();
    log('warm-up');
    await warmUp(variants, bigMessage);
    log(`latency: ${settings.latencyCalls} sequential calls per variant`);
    await measureLatency(variants);
    log(`throughput: ${settings.throughputRounds} round(s) of ${settings.throughputCalls} calls, ${settings.inFlight} in flight`);
    await measureThroughput(variants);
    log(`memory: ${settings.memoryCalls} calls per proxy variant`);
    await measureMemory(variants);
    log(`large messages: ${settings.bigCalls} × ${settings.bigBytes} bytes per variant`);
    await measureBig(variants, bigMessage);
    load = foreignLoad(measureStart, loadSnapshot());
    const noisy = load.otherCpus > 0.1 || load.stealCpus > 0.05;
    log(
      `load during measurement: benchmark ${load.oursCpus} CPU(s), other processes ${load.otherCpus} CPU(s), steal ${load.stealCpus}` +
        (noisy ? ' — WARNING: the machine was not quiet; treat the numbers with care' : ''),
    );
    for (const v of variants) {
      if (v.client.notifications || v.client.serverRequests) {
        v.unsolicited = { notifications: v.client.notifications, serverRequests: v.client.serverRequests };
      }
    }
  } finally {
    log('shutting down (stdin EOF, as a host does)');
    problems = await shutDown(variants);
  }
  let http;
  if (settings.httpCalls > 0) {
    log('HTTP: server-everything, ratri, mcp-proxy and supergateway over Streamable HTTP');
    http = await measureHttpPeers(tmp, {
      calls: settings.httpCalls,
      throughputCalls: settings.httpThroughputCalls,
      inFlight: settings.httpInFlight,
      rounds: settings.throughputRounds,
      timeoutMs: settings.requestTimeoutMs,
      message: ECHO_MESSAGE,
      onChild: (child) => httpChildren.push(child),
      log,
    });
  }
  for (const v of variants) {
    if (v.telemetryFile && existsSync(v.telemetryFile)) {
      v.telemetry = { bytes: statSync(v.telemetryFile).size, events: countLines(v.telemetryFile) };
    }
    if (v.storeFile) {
      try {
        v.store = readStore(v);
      } catch (err) {
        problems.push(`${v.name}: cannot read its store ${v.storeFile}: ${err.message}`);
      }
    }
  }
  const guard = guardEvaluation(variants);

  const text = report(variants, machine, problems, load, startup, http);
  process.stdout.write(text + '\n');

  const result = {
    generatedAt: new Date().toISOString(),
    command: 'npm run bench',
    machine,
    settings,
    load,
    targets: TARGETS,
    startup: startup && {
      directMedianMs: round(startup.direct.medianMs, 1),
      ratriMedianMs: round(startup.ratri.medianMs, 1),
      differenceMs: round(startup.differenceMs, 1),
      pass: startup.pass,
      relayMedianMs: round(startup.relay.medianMs, 1),
      directSamplesMs: startup.direct.samplesMs.map((x) => round(x, 1)),
      relaySamplesMs: startup.relay.samplesMs.map((x) => round(x, 1)),
      ratriSamplesMs: startup.ratri.samplesMs.map((x) => round(x, 1)),
      compare: startup.compare
        ? {
            cli: process.env.BENCH_STARTUP_COMPARE,
            medianMs: round(startup.compare.medianMs, 1),
            samplesMs: startup.compare.samplesMs.map((x) => round(x, 1)),
          }
        : null,
    },
    http:
      http?.map((s) => ({
        name: s.name,
        label: s.label,
        p50Ms: round(s.p50Ms, 3),
        throughputCallsPerSec: round(s.throughput, 0),
        throughputRounds: s.throughputRounds.map((x) => round(x, 0)),
      })) ?? null,
    guardEvaluation: guard && Object.fromEntries(Object.entries(guard).map(([k, x]) => [k, typeof x === 'number' ? round(x, 4) : x])),
    variants: variants.map((v) => ({
      name: v.name,
      label: v.label,
      startupMs: round(v.startupMs, 1),
      latencyMs: Object.fromEntries(Object.entries(v.latency).map(([k, x]) => [k, round(x, 4)])),
      throughputCallsPerSec: round(v.throughput, 0),
      throughputRounds: v.throughputRounds.map((x) => round(x, 0)),
      cpuPerCallUs: Object.fromEntries(
        Object.entries(v.cpuPerCallUs).map(([k, x]) => [k, Array.isArray(x) ? x.map((y) => round(y, 1)) : round(x, 1)]),
      ),
      bigRoundTripMs: round(v.big, 2),
      bigRoundTripMinMs: round(Math.min(...v.bigSamples), 2),
      bigSamplesMs: v.bigSamples.map((x) => round(x, 2)),
      memory: v.memory ? { ...v.memory, seconds: round(v.memory.seconds, 2) } : null,
      ratiosToRelay: Object.fromEntries(Object.entries(v.ratios).map(([k, x]) => [k, round(x, 3)])),
      pass: v.pass ?? null,
      processes: v.processes.map((p) => p.comm),
      shutdown: v.shutdown,
      unsolicited: v.unsolicited ?? null,
      telemetry: v.telemetry ?? null,
      store: v.store
        ? {
            events: v.store.events,
            bytes: v.store.bytes,
            eventsByType: v.store.byType,
            guardLatencyMs:
              v.store.guardLatencyMs && Object.fromEntries(Object.entries(v.store.guardLatencyMs).map(([k, x]) => [k, round(x, 4)])),
          }
        : null,
    })),
    problems,
    table: text,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  log(`results written to ${relative(process.cwd(), outFile) || outFile}`);
  if (problems.length > 0) {
    log(`${problems.length} problem(s) during shutdown; see above`);
    process.exitCode = 1;
  }
}

/** A deterministic ASCII message that needs no JSON escaping and is not one repeated byte. */
function makeBigMessage(bytes) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_';
  const out = Buffer.allocUnsafe(bytes);
  let x = 0x9e3779b9;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = alphabet.charCodeAt((x >>> 0) % alphabet.length);
  }
  return out.toString('latin1');
}

main().catch((err) => {
  const detail = process.env.BENCH_DEBUG ? (err?.stack ?? String(err)) : (err?.message ?? String(err));
  process.stderr.write(`\nbench: FAILED: ${detail}\n(the benchmark did not complete; BENCH_DEBUG=1 shows the stack)\n`);
  process.exitCode = 1;
  emergencyCleanup();
});
