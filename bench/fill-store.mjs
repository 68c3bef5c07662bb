#!/usr/bin/env node
/**
 * Does recording a call get dearer as the store grows? Fills a fresh store with N tool calls through
 * the proxy's own telemetry path (Telemetry → EventQueue → the embedded store's sink, as
 * `ratri mcp proxy` does, each record scanned for secret values as by default, without the relay),
 * and prints the CPU µs per call of each block of calls, the store's size, and how long `ratri
 * events`' newest-1000 query and a `--tool` query take at the end (docs/performance.md#one-record-per-call).
 *
 *   node bench/fill-store.mjs [calls=1000000] [block=100000]   (needs dist/: npm run build)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { LocalControlPlane } from '../dist/lib/control/local-control-plane.js';
import { secretFinder } from '../dist/lib/secrets/find-secrets.js';
import { EventQueue } from '../dist/lib/telemetry/event-queue.js';
import { Telemetry } from '../dist/lib/telemetry/telemetry.js';

const total = Number(process.argv[2] ?? 1_000_000);
const block = Number(process.argv[3] ?? 100_000);
const dir = mkdtempSync(join(os.tmpdir(), 'ratri-fill-'));
const path = join(dir, 'ratri.db');
const plane = LocalControlPlane.open(path);
const queue = new EventQueue([plane.events]);
// Every record is scanned for secret values, as the proxy does by default (secrets.redact); FILL_SECRETS=0 leaves that out.
const findSecrets = process.env.FILL_SECRETS === '0' ? undefined : secretFinder();
const telemetry = new Telemetry(
  { agentKey: 'bench', environment: 'bench', serverName: 'everything', sessionId: 's' },
  queue,
  [],
  findSecrets,
);
const verdict = { decision: 'allow', ruleId: null, reason: 'no rule matched', latencyMs: 0.01 };

/** One call as the proxy records it: decided, started, answered. */
function oneCall(i) {
  const call = telemetry.describeCall(String(i), 'echo', { message: `hello ${i}` }, undefined, 120);
  telemetry.guardrailEvaluated(call, verdict, true);
  telemetry.toolStarted(call);
  telemetry.toolFinished(call, { resultSize: 150 });
}

const rows = [];
for (let done = 0; done < total; ) {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (let i = 0; i < block; i++) {
    oneCall(done + i);
    // As in the proxy, calls arrive over many turns: let the queue build and write its batches.
    if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  await queue.flush();
  const used = process.cpuUsage(cpu);
  done += block;
  rows.push({
    stored: done,
    cpuUsPerCall: +((used.user + used.system) / block).toFixed(2),
    wallUsPerCall: +(((performance.now() - wall) * 1000) / block).toFixed(2),
    rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
  });
  process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
}
/** The first run (after the writes), and the best of three more. */
const timed = (f) => {
  const runs = [];
  let n = 0;
  for (let i = 0; i < 4; i++) {
    const t = performance.now();
    n = f().length;
    runs.push(performance.now() - t);
  }
  return { firstMs: +runs[0].toFixed(1), bestMs: +Math.min(...runs.slice(1)).toFixed(1), events: n };
};
const newest = timed(() => plane.eventStore.query({ limit: 1000 }));
const byTool = timed(() => plane.eventStore.query({ tool: 'everything.echo', type: 'agent.tool.completed', limit: 1000 }));
const bytes = statSync(path).size + statSync(`${path}-wal`, { throwIfNoEntry: false })?.size;
console.log(
  JSON.stringify(
    {
      calls: total,
      dropped: queue.stats.dropped,
      storedEvents: plane.eventStore.count(),
      storeMB: Math.round(bytes / 2 ** 20),
      blocks: rows,
      newest,
      byTool,
    },
    null,
    1,
  ),
);
await telemetry.close(5000);
plane.db.close();
rmSync(dir, { recursive: true, force: true });
