#!/usr/bin/env node
/**
 * What keeping a tool call costs, without the frames: the CPU per call of ratri's telemetry making
 * the call's record (inferring, redacting, the secret prefilter, the parts) and of its sinks
 * writing it, in one process, with no upstream and no host. The proxy itself pays more per call
 * than this (its frames, its other work and the collector share the same caches and heap), so
 * this says what a change to the records or the store is worth, in a few seconds and with less
 * noise than `npm run bench`, not what the proxy costs (docs/performance.md#what-is-left).
 *
 *   node bench/record-cost.mjs [none|store|jsonl|both] [calls]     (needs dist/: npm run build)
 *   RATRI_DIST=/other/build/dist node bench/record-cost.mjs store  (another build, for before/after)
 *
 * Each call is a plain `echo` as the benchmark makes it (started, decided `allow`, answered);
 * records are built every 128 calls and the queue flushed every 256, about what the proxy's 10 ms
 * and 20 ms timers gather at 13 000 calls/s. The sinks are real: the SQLite store in a temp dir,
 * a JSONL file beside it; `none` measures the records alone.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const kind = process.argv[2] ?? 'store';
const calls = Number(process.argv[3] ?? 200_000);
if (!['none', 'store', 'jsonl', 'both'].includes(kind) || !(calls > 0)) {
  process.stderr.write('usage: node bench/record-cost.mjs [none|store|jsonl|both] [calls]\n');
  process.exit(2);
}
const dist = process.env.RATRI_DIST ?? fileURLToPath(new URL('../dist', import.meta.url));
const load = (path) => import(pathToFileURL(join(dist, path)).href);
const { Telemetry } = await load('lib/telemetry/telemetry.js');
const { EventQueue } = await load('lib/telemetry/event-queue.js');
const { JsonlSink } = await load('lib/telemetry/jsonl-sink.js');
const { secretFinder } = await load('lib/secrets/find-secrets.js');
const { openStore } = await load('lib/control/store.js');
const { EventStore, StoreEventSink } = await load('lib/control/event-store.js');

const dir = mkdtempSync(join(os.tmpdir(), 'ratri-record-cost-'));
const sinks = [];
if (kind === 'store' || kind === 'both') {
  const db = openStore(join(dir, 'ratri.db'));
  sinks.push(new StoreEventSink(new EventStore(db), db));
}
if (kind === 'jsonl' || kind === 'both') sinks.push(new JsonlSink(join(dir, 'events.jsonl')));
// With no sink telemetry builds nothing at all; `none` keeps one that takes every batch and drops it.
if (sinks.length === 0) sinks.push({ write: () => Promise.resolve(), writeCalls: () => Promise.resolve(), close: () => Promise.resolve() });

const queue = new EventQueue(sinks);
const identity = {
  agentKey: 'bench',
  environment: 'development',
  serverName: 'everything',
  sessionId: '386a818a-db3f-4fbb-b666-82898321207f',
};
const telemetry = new Telemetry(identity, queue, [], secretFinder({}));
const verdict = { decision: 'allow', ruleId: null, reason: 'no rule matched', latencyMs: 0.001 };
const BUILD_EVERY = 128;
const FLUSH_EVERY = 256;
let requestId = 0;

async function run(n) {
  for (let i = 1; i <= n; i++) {
    const args = { message: 'hello from the ratri benchmark' };
    const call = telemetry.describeCall(String(++requestId), 'echo', args, undefined, 132, '2025-06-18');
    telemetry.toolStarted(call);
    telemetry.guardrailEvaluated(call, verdict, false);
    telemetry.toolFinished(call, { resultSize: 113 });
    if (i % BUILD_EVERY === 0) telemetry.buildPending();
    if (i % FLUSH_EVERY === 0) await queue.flush();
  }
  telemetry.buildPending();
  await queue.flush();
}

await run(Math.min(20_000, calls)); // warm-up: compiled code, a store with rows in it
const before = process.cpuUsage();
await run(calls);
const used = process.cpuUsage(before);
await queue.close(5000);
if (queue.stats.dropped > 0 || queue.stats.failedBatches > 0) throw new Error(`records lost: ${JSON.stringify(queue.stats)}`);
process.stdout.write(`${kind}: ${((used.user + used.system) / calls).toFixed(2)} µs of CPU per call (${calls} calls; ${dist})\n`);
