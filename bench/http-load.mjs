#!/usr/bin/env node
/**
 * Load benchmark for ratri's HTTP front (issue 5, item 5).
 *
 * Starts `ratri mcp proxy --transport http --port 0` (monitor mode) with the fixture upstream
 * fixtures/servers/tools-server.mjs in stdio mode (it answers tools/call instantly), then opens N
 * concurrent Streamable HTTP sessions with raw fetch; each initializes and makes M sequential
 * `tools/call` requests, then DELETEs its session. It reports total calls, calls lost, wall time,
 * calls/s, p50/p99 latency per call, the proxy's RSS (VmRSS of the ratri process) before the sessions,
 * at peak and after the sessions are deleted, and how many processes are left under ratri afterwards.
 *
 * Usage:   npm run build && node bench/http-load.mjs [--sessions 50] [--calls 200] [--settle-ms 5000] [--rounds 1]
 *          --rounds N repeats the whole thing (open, call, DELETE, settle) N times against the same
 *          proxy, to tell memory that is merely not returned to the OS from memory that keeps growing.
 *          --heap-snapshots (diagnosis) makes ratri write a heap snapshot after each round (a full GC
 *          first) and reports RSS after it; the snapshots are left in the printed directory.
 * Output:  a table on stdout and bench/results/http-load.json.
 * Exit:    0 when it ran cleanly; 1 when a call was lost, a request failed, or an upstream child was
 *          left behind after every session ended.
 *
 * It is a benchmark, not a test: figures depend on the machine.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Session } from './http-client.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cliPath = join(root, 'dist', 'cli', 'ratri.js');
const upstreamPath = join(root, 'fixtures', 'servers', 'tools-server.mjs');
const resultsPath = join(root, 'bench', 'results', 'http-load.json');

const { values: opts } = parseArgs({
  options: {
    sessions: { type: 'string', default: '50' },
    calls: { type: 'string', default: '200' },
    'settle-ms': { type: 'string', default: '5000' },
    'call-timeout-ms': { type: 'string', default: '30000' },
    rounds: { type: 'string', default: '1' },
    'heap-snapshots': { type: 'boolean', default: false },
  },
});
const SESSIONS = Number(opts.sessions);
const CALLS = Number(opts.calls);
const SETTLE_MS = Number(opts['settle-ms']);
const CALL_TIMEOUT_MS = Number(opts['call-timeout-ms']);
const ROUNDS = Math.max(1, Number(opts.rounds));
// Diagnosis only: run ratri with --heapsnapshot-signal and, after each round's settle time, make it
// write a heap snapshot (which runs a full GC first), then read RSS again. Snapshots are kept.
const HEAP_SNAPSHOTS = opts['heap-snapshots'];

// ---------- /proc ----------

/** RssAnon / RssFile / RssShmem of a process in KiB (what VmRSS is made of), or undefined when gone. */
function rssParts(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => Number(text.match(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm'))?.[1] ?? NaN);
    return { anon: field('RssAnon'), file: field('RssFile'), shmem: field('RssShmem') };
  } catch {
    return undefined;
  }
}

const dirOf = new Map();

/** Signals ratri to write a heap snapshot into `dir`, waits for it, and returns { file, rssKiB, anonKiB }. */
async function heapSnapshot(pid, dir) {
  const before = new Set(readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const fresh = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (fresh.length > 0) {
      // The file is complete once its size stops changing.
      const file = join(dir, fresh[0]);
      let size = -1;
      while (Date.now() < deadline) {
        await sleep(500);
        const now = statSync(file).size;
        if (now === size && now > 0) break;
        size = now;
      }
      await sleep(500);
      return { file, sizeBytes: statSync(file).size, rssKiB: rssKiB(pid), anonKiB: rssParts(pid)?.anon };
    }
    if (Date.now() > deadline) return undefined;
    await sleep(200);
  }
}

/** VmRSS of a process in KiB, or NaN when it is gone. */
function rssKiB(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Every live (non-zombie) process whose parent chain leads to `pid`, as { pid, comm, args }. */
function descendants(pid) {
  const parent = new Map();
  const info = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') continue;
    parent.set(Number(entry), Number(fields[1]));
    info.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
  }
  const out = [];
  for (const [p] of parent) {
    let q = parent.get(p);
    while (q !== undefined && q !== pid && q > 1) q = parent.get(q);
    if (q === pid) {
      let args = '';
      try {
        args = readFileSync(`/proc/${p}/cmdline`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((a) => a.split('/').pop())
          .join(' ');
      } catch {
        // gone meanwhile
      }
      out.push({ pid: p, comm: info.get(p), args });
    }
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const parts = (p) => (p ? `${mib(p.anon)} / ${mib(p.file)} / ${mib(p.shmem)} MiB` : 'n/a');
const mib = (kib) => (Number.isFinite(kib) ? (kib / 1024).toFixed(1) : 'n/a');

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

// ---------- ratri ----------

async function startRatri(dir) {
  const config = join(dir, 'ratri.mcp.json');
  writeFileSync(
    config,
    JSON.stringify({
      agentKey: 'http-load',
      mode: 'monitor',
      store: join(dir, 'ratri.db'),
      upstream: { command: process.execPath, args: [upstreamPath] },
    }),
  );
  const args = [
    cliPath,
    'mcp',
    'proxy',
    '--config',
    config,
    '--transport',
    'http',
    '--port',
    '0',
    '--max-sessions',
    String(Math.max(SESSIONS * 2, 100)),
  ];
  if (HEAP_SNAPSHOTS) args.unshift('--heapsnapshot-signal=SIGUSR2');
  const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, RATRI_HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.resume();
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`ratri did not print its URL within 15 s; stderr:\n${stderr}`)), 15_000);
    child.stderr.on('data', (c) => {
      stderr += c.toString('utf8');
      const m = stderr.match(/serving MCP over Streamable HTTP at (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`ratri exited (code ${code}, signal ${signal}) before serving; stderr:\n${stderr}`));
    });
  });
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.on('close', (code, signal) => r({ code, signal })));
  return { child, url, exited, stderr: () => stderr };
}

// ---------- run ----------

/**
 * One round: SESSIONS sessions opened at once, CALLS sequential tools/call each, every session
 * DELETEd, then SETTLE_MS for the proxy to reap upstreams and release memory (nothing is triggered).
 */
async function round(url, pid, childrenBefore, errors) {
  const latencies = [];
  let ok = 0;
  let lost = 0;
  let peakRss = rssKiB(pid) || 0;
  let peakChildren = 0;
  let tick = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssKiB(pid) || 0);
    // Scanning /proc costs CPU on the measured machine: count processes every 0.5 s only.
    if (tick++ % 5 === 0) peakChildren = Math.max(peakChildren, descendants(pid).length);
  }, 100);

  const sessions = Array.from({ length: SESSIONS }, () => new Session(url, { timeoutMs: CALL_TIMEOUT_MS }));
  const started = performance.now();
  const opened = await Promise.allSettled(sessions.map((s) => s.open()));
  const openMs = performance.now() - started;
  for (const [i, r] of opened.entries())
    if (r.status === 'rejected') errors.push(`session ${i} initialize: ${r.reason?.message ?? r.reason}`);
  peakChildren = Math.max(peakChildren, descendants(pid).length);

  const callsStarted = performance.now();
  await Promise.all(
    sessions.map(async (s, i) => {
      if (opened[i].status !== 'fulfilled') {
        lost += CALLS;
        return;
      }
      for (let c = 0; c < CALLS; c++) {
        const t0 = performance.now();
        try {
          const res = await s.request('tools/call', { name: 'read_file', arguments: { path: `/s${i}/c${c}` } });
          const text = res?.content?.[0]?.text;
          if (text !== 'called read_file') throw new Error(`unexpected result ${JSON.stringify(res).slice(0, 200)}`);
          latencies.push(performance.now() - t0);
          ok++;
        } catch (error) {
          lost++;
          if (errors.length < 20) errors.push(`session ${i} call ${c}: ${error.message}`);
        }
      }
    }),
  );
  const callsMs = performance.now() - callsStarted;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, rssKiB(pid) || 0);
  peakChildren = Math.max(peakChildren, descendants(pid).length);

  const deleteStatuses = {};
  const statuses = await Promise.allSettled(sessions.filter((s) => s.sessionId).map((s) => s.close()));
  for (const r of statuses) {
    const key = r.status === 'fulfilled' ? String(r.value) : 'error';
    deleteStatuses[key] = (deleteStatuses[key] ?? 0) + 1;
  }
  const deleteFailures = statuses.filter((r) => r.status !== 'fulfilled' || r.value >= 300).length;
  if (deleteFailures) errors.push(`${deleteFailures} DELETE(s) failed: ${JSON.stringify(deleteStatuses)}`);
  const wallMs = performance.now() - started;

  let left = descendants(pid);
  const settleStart = performance.now();
  while (left.length > childrenBefore && performance.now() - settleStart < SETTLE_MS) {
    await sleep(100);
    left = descendants(pid);
  }
  const childrenGoneMs = left.length <= childrenBefore ? performance.now() - settleStart : NaN;
  await sleep(Math.max(0, SETTLE_MS - (performance.now() - settleStart)));
  left = descendants(pid);
  const rssAfter = rssKiB(pid);
  const partsAfter = rssParts(pid);
  if (left.length > childrenBefore)
    errors.push(
      `${left.length - childrenBefore} process(es) left under ratri after every session was deleted: ${left.map((p) => `${p.pid} ${p.args}`).join('; ')}`,
    );
  if (!Number.isFinite(rssAfter)) errors.push('ratri exited during the run');

  let afterGc;
  if (HEAP_SNAPSHOTS) afterGc = await heapSnapshot(pid, dirOf.get(pid));

  latencies.sort((a, b) => a - b);
  const fixed = (v) => (v === undefined || Number.isNaN(v) ? null : Number(v.toFixed(2)));
  return {
    totalCalls: SESSIONS * CALLS,
    ok,
    lost,
    initializeAllMs: Math.round(openMs),
    callsWallMs: Math.round(callsMs),
    wallMs: Math.round(wallMs),
    callsPerSecond: Math.round(ok / (callsMs / 1000)),
    latencyMs: {
      p50: fixed(percentile(latencies, 50)),
      p90: fixed(percentile(latencies, 90)),
      p99: fixed(percentile(latencies, 99)),
      max: fixed(latencies.at(-1)),
    },
    rssKiB: { peak: peakRss, after: rssAfter, partsAfter, afterGc },
    children: {
      atPeak: peakChildren,
      after: left.length,
      goneAfterMs: Number.isFinite(childrenGoneMs) ? Math.round(childrenGoneMs) : null,
    },
    deleteStatuses,
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ratri-http-load-'));
  const ratri = await startRatri(dir);
  const pid = ratri.child.pid;
  dirOf.set(pid, dir);
  const errors = [];
  let result;
  try {
    await sleep(1000);
    const rssBefore = rssKiB(pid);
    const partsBefore = rssParts(pid);
    const childrenBefore = descendants(pid).length;
    const rounds = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(await round(ratri.url, pid, childrenBefore, errors));
    const first = rounds[0];
    result = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      sessions: SESSIONS,
      callsPerSession: CALLS,
      ...first,
      errors,
      rssKiB: {
        before: rssBefore,
        peak: first.rssKiB.peak,
        after: first.rssKiB.after,
        settleMs: SETTLE_MS,
        partsBefore,
        partsAfter: first.rssKiB.partsAfter,
      },
      children: { before: childrenBefore, ...first.children },
      totalCalls: rounds.reduce((n, x) => n + x.totalCalls, 0),
      ok: rounds.reduce((n, x) => n + x.ok, 0),
      lost: rounds.reduce((n, x) => n + x.lost, 0),
      rounds: rounds.map((x, i) => ({
        round: i + 1,
        ok: x.ok,
        lost: x.lost,
        callsPerSecond: x.callsPerSecond,
        latencyMs: x.latencyMs,
        rssPeakKiB: x.rssKiB.peak,
        rssAfterKiB: x.rssKiB.after,
        rssPartsAfterKiB: x.rssKiB.partsAfter,
        afterGc: x.rssKiB.afterGc,
        childrenAfter: x.children.after,
      })),
    };
  } catch (error) {
    errors.push(`run aborted: ${error.stack ?? error}`);
  } finally {
    ratri.child.kill('SIGTERM');
    const t = setTimeout(() => ratri.child.kill('SIGKILL'), 5000);
    await ratri.exited;
    clearTimeout(t);
    if (HEAP_SNAPSHOTS) console.log(`heap snapshots kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }

  if (!result) {
    console.error(errors.join('\n'));
    console.error(`ratri stderr (tail):\n${ratri.stderr().slice(-3000)}`);
    return 1;
  }
  const rows = [
    ['sessions × calls (round 1)', `${SESSIONS} × ${CALLS}`],
    ['total calls (all rounds)', result.totalCalls],
    ['calls ok', result.ok],
    ['calls lost', result.lost],
    ['initialize (all sessions)', `${result.initializeAllMs} ms`],
    ['wall time (calls)', `${result.callsWallMs} ms`],
    ['wall time (init→DELETE)', `${result.wallMs} ms`],
    ['calls/s', result.callsPerSecond],
    [
      'latency p50 / p90 / p99 / max',
      `${result.latencyMs.p50} / ${result.latencyMs.p90} / ${result.latencyMs.p99} / ${result.latencyMs.max} ms`,
    ],
    ['proxy RSS before sessions', `${mib(result.rssKiB.before)} MiB`],
    ['proxy RSS peak', `${mib(result.rssKiB.peak)} MiB`],
    [`proxy RSS ${SETTLE_MS} ms after DELETE`, `${mib(result.rssKiB.after)} MiB`],
    ['RSS anon / file / shmem before', parts(result.rssKiB.partsBefore)],
    ['RSS anon / file / shmem after', parts(result.rssKiB.partsAfter)],
    ['processes under ratri before / peak / after', `${result.children.before} / ${result.children.atPeak} / ${result.children.after}`],
    ['upstreams gone after DELETE in', result.children.goneAfterMs === null ? 'NOT GONE' : `${result.children.goneAfterMs} ms`],
    ['DELETE statuses', JSON.stringify(result.deleteStatuses)],
  ];
  for (const r of result.rounds.slice(1)) {
    rows.push([
      `round ${r.round}: calls/s, p50/p99, RSS peak → after`,
      `${r.callsPerSecond}, ${r.latencyMs.p50}/${r.latencyMs.p99} ms, ${mib(r.rssPeakKiB)} → ${mib(r.rssAfterKiB)} MiB (anon ${mib(r.rssPartsAfterKiB?.anon)})`,
    ]);
  }
  for (const r of result.rounds) {
    if (r.afterGc)
      rows.push([
        `round ${r.round}: after heap snapshot (full GC)`,
        `RSS ${mib(r.afterGc.rssKiB)} MiB, anon ${mib(r.afterGc.anonKiB)} MiB, snapshot ${(r.afterGc.sizeBytes / 1048576).toFixed(1)} MiB`,
      ]);
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`ratri HTTP front load (${result.node}, ${result.cpus} CPUs)`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
  if (errors.length) console.log(`errors:\n  ${errors.join('\n  ')}`);
  mkdirSync(dirname(resultsPath), { recursive: true });
  writeFileSync(resultsPath, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${resultsPath}`);
  return result.lost === 0 && errors.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
