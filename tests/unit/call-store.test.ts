/**
 * One record per tool call, on real SQLite files: the telemetry's call record becomes one row of
 * `calls`, is read back as the events the JSONL file gets, in one sequence with the other events,
 * and a store made before the `calls` table keeps its events readable (docs/events.md#one-record-per-call).
 */

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../lib/control/event-store.js';
import { MIGRATIONS } from '../../lib/control/migrations.js';
import { openStore } from '../../lib/control/store.js';
import { expandCalls } from '../../lib/telemetry/call-event.js';
import type { QueuedEvent, RatriEvent } from '../../lib/telemetry/event.js';
import { EventQueue } from '../../lib/telemetry/event-queue.js';
import { Telemetry } from '../../lib/telemetry/telemetry.js';
import { tempDir } from '../helpers/cli.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function storePath(): string {
  const dir = tempDir('ratri-calls-');
  dirs.push(dir);
  return join(dir, 'ratri.db');
}

const allow = { decision: 'allow' as const, ruleId: null, reason: 'no rule matched', latencyMs: 0.0123 };
const ask = { decision: 'require_approval' as const, ruleId: 'r1', reason: 'ask a human', latencyMs: 0.2, approvalId: 'apr_1' };

/** What the telemetry queues for `build`, batch by batch as the queue hands it to a sink that takes calls. */
async function queued(build: (t: Telemetry) => void, redactKeys: string[] = []): Promise<QueuedEvent[]> {
  const seen: QueuedEvent[] = [];
  const sink = { write: async () => undefined, writeCalls: async (e: QueuedEvent[]) => void seen.push(...e), close: async () => undefined };
  const t = new Telemetry({ agentKey: 'a', environment: 'e', serverName: 'fs', sessionId: 's1' }, new EventQueue([sink]), redactKeys);
  build(t);
  await t.close(1000);
  return seen;
}

describe('one record per call', () => {
  it('queues a call as one record and stores it as one row, read back as the events the JSONL file gets', async () => {
    const batch = await queued(
      (t) => {
        const call = t.describeCall('7', 'read_file', { path: '/etc/hosts', token: 'SECRET' }, undefined, 99);
        t.guardrailEvaluated(call, allow, true);
        t.toolStarted(call);
        t.toolFinished(call, { resultSize: 42 });
      },
      ['token'],
    );
    expect(batch.map((e) => e.type)).toEqual(['agent.tool.call']);
    const asJsonl = expandCalls(batch);
    expect(asJsonl.map((e) => e.type)).toEqual(['agent.guardrail.evaluated', 'agent.tool.started', 'agent.tool.completed']);
    expect(asJsonl[1]!.data).toEqual({
      tool: 'fs.read_file',
      requestId: '7',
      action: 'read',
      resource: { type: 'file', value: '/etc/hosts' },
      riskLevel: 'low',
      arguments: { path: '/etc/hosts', token: '[REDACTED]' },
      argumentsSize: 99,
    });
    expect(new Set(asJsonl.map((e) => e.id)).size).toBe(3);

    const db = openStore(storePath());
    const store = new EventStore(db);
    store.insert(batch);
    const row = db.prepare('SELECT tool, decision, outcome, arguments_size, result_size, events, typeof(ts) AS t FROM calls').all();
    expect(row).toEqual([
      { tool: 'fs.read_file', decision: 'allow', outcome: 'completed', arguments_size: 99, result_size: 42, events: 3, t: 'integer' },
    ]);
    expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(0);
    const read = store.query();
    expect(read.map(({ seq: _seq, ...e }) => e)).toEqual(asJsonl);
    expect(read.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(JSON.stringify(db.prepare('SELECT * FROM calls').all())).not.toContain('SECRET');
    expect(store.count()).toBe(3);
    db.close();
  });

  it('keeps a plain call (a start, a decision, an end) in the columns: its events read back the same, key for key', async () => {
    const batch = await queued((t) => {
      const monitored = t.describeCall('1', 'read_file', { path: '/a' }, undefined, 31);
      t.toolStarted(monitored);
      t.guardrailEvaluated(monitored, { ...allow, ruleId: 'r9', reason: 'would block "x"' }, false);
      t.toolFinished(monitored, { resultSize: 7 });
      const enforced = t.describeCall('2', 'read_file', { path: '/b' }, undefined, 32);
      t.guardrailEvaluated(enforced, allow, true);
      t.toolStarted(enforced);
      t.toolFinished(enforced, { resultSize: 8 });
      // Not plain: a failed end, a decision with more fields. Their parts stay JSON.
      const failed = t.describeCall('3', 'read_file', { path: '/c' }, undefined, 33);
      t.guardrailEvaluated(failed, allow, true);
      t.toolStarted(failed);
      t.toolFinished(failed, { error: { code: -32603, message: 'gone' }, resultSize: 9 });
      const granted = t.describeCall('4', 'read_file', { path: '/d' }, undefined, 34);
      t.guardrailEvaluated(granted, { ...allow, grantId: 'g1' }, true);
      t.toolStarted(granted);
      t.toolFinished(granted, { resultSize: 10 });
    });
    const db = openStore(storePath());
    const store = new EventStore(db);
    store.insert(batch);
    const parts = db.prepare('SELECT request_id, parts FROM calls ORDER BY seq').all() as Array<{ request_id: string; parts: string }>;
    expect(parts.map((p) => [p.request_id, p.parts.startsWith('[{')])).toEqual([
      ['1', false],
      ['2', false],
      ['3', true],
      ['4', true],
    ]);
    expect(JSON.parse(parts[0]!.parts)).toEqual([1, expect.any(Number), 'would block "x"', false, 1]);
    // Byte for byte what the JSONL file gets (toEqual would not see a key out of order).
    const read = store.query().map(({ seq: _seq, ...e }) => JSON.stringify(e));
    expect(read).toEqual(expandCalls(batch).map((e) => JSON.stringify(e)));
    expect(store.query().map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // Cursors and filters see a compact row's events as any other's.
    expect(store.query({ beforeSeq: 2 }).map((e) => e.seq)).toEqual([1]);
    expect(store.query({ afterSeq: 4, limit: 2 }).map((e) => [e.seq, e.data.requestId])).toEqual([
      [11, '4'],
      [12, '4'],
    ]);
    expect(store.query({ type: 'agent.tool.started' }).map((e) => e.data.arguments)).toEqual([
      { path: '/a' },
      { path: '/b' },
      { path: '/c' },
      { path: '/d' },
    ]);
    db.close();
  });

  it('adds to the row of a plain call a result-phase decision made after its end (monitor mode judges answers late)', async () => {
    const batch = await queued((t) => {
      const judged = t.describeCall('5', 'read_file', { path: '/e' }, undefined, 35);
      t.toolStarted(judged);
      t.guardrailEvaluated(judged, allow, false);
      t.toolFinished(judged, { resultSize: 11 });
      t.emit('proxy.warning', { code: 'between', message: 'an event between the end and the late part' });
      t.resultEvaluated(judged, { decision: 'block', ruleId: 'no-secrets-out', reason: 'a secret' }, 0.4, false);
    });
    expect(batch.map((e) => e.type)).toEqual(['agent.tool.call', 'proxy.warning', 'agent.tool.call']);
    const db = openStore(storePath());
    const store = new EventStore(db);
    store.insert(batch.slice(0, 2));
    store.insert(batch.slice(2));
    expect(db.prepare('SELECT count(*) AS n, events, seq FROM calls').get()).toEqual({ n: 1, events: 4, seq: 5 });
    const read = store.query();
    expect(read.map((e) => [e.seq, e.type, e.data.phase])).toEqual([
      [1, 'agent.tool.started', undefined],
      [2, 'agent.guardrail.evaluated', undefined],
      [3, 'agent.tool.completed', undefined],
      [4, 'proxy.warning', undefined],
      [5, 'agent.guardrail.evaluated', 'result'],
    ]);
    // The call's events byte for byte (the events table's own rows are read back with their own key order).
    const ofCall = (e: { type: string }): boolean => e.type !== 'proxy.warning';
    expect(read.filter(ofCall).map(({ seq: _seq, ...e }) => JSON.stringify(e))).toEqual(
      expandCalls(batch)
        .filter(ofCall)
        .map((e) => JSON.stringify(e)),
    );
    expect(store.query({ beforeSeq: 4 }).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(store.query({ beforeSeq: 2 }).map((e) => e.seq)).toEqual([1]);
    db.close();
  });

  it('writes a held call when it is held and updates the same row when it ends, in order with the approval events', async () => {
    const batch = await queued((t) => {
      const call = t.describeCall('1', 'delete_file', { path: '/x' }, undefined, 50);
      t.guardrailEvaluated(call, ask, true);
      t.approvalRequested(call, { approvalId: 'apr_1', ruleId: 'r1', reason: 'ask a human', timeoutMs: 1000 });
      t.emit('agent.approval.resolved', { approvalId: 'apr_1', tool: 'fs.delete_file', outcome: 'approved' });
      t.toolStarted(call);
      t.toolFinished(call, { error: { code: -1, message: 'nope' }, resultSize: 10 });
    });
    expect(batch.map((e) => e.type)).toEqual(['agent.tool.call', 'agent.approval.requested', 'agent.approval.resolved', 'agent.tool.call']);
    const db = openStore(storePath());
    const store = new EventStore(db);
    // Held: stored (and readable) before the call ends.
    store.insert(batch.slice(0, 3));
    expect(store.query().map((e) => e.type)).toEqual(['agent.guardrail.evaluated', 'agent.approval.requested', 'agent.approval.resolved']);
    const heldSeq = db.prepare('SELECT seq FROM calls').pluck().get();
    store.insert(batch.slice(3));
    const read = store.query();
    expect(read.map((e) => [e.seq, e.type])).toEqual([
      [1, 'agent.guardrail.evaluated'],
      [2, 'agent.approval.requested'],
      [3, 'agent.approval.resolved'],
      [4, 'agent.tool.started'],
      [5, 'agent.tool.failed'],
    ]);
    expect(read.map(({ seq: _seq, ...e }) => e)).toEqual(expandCalls(batch));
    expect(db.prepare('SELECT count(*) AS n, max(seq) AS seq, outcome, events FROM calls').get()).toEqual({
      n: 1,
      seq: 5,
      outcome: 'failed',
      events: 3,
    });
    expect(heldSeq).toBe(1);
    // Following after the held part sees only what came later.
    expect(store.query({ afterSeq: 3 }).map((e) => e.type)).toEqual(['agent.tool.started', 'agent.tool.failed']);
    expect(store.query({ decision: 'require_approval' }).map((e) => e.seq)).toEqual([1]);
    expect(store.query({ type: 'agent.tool.*', limit: 1 }).map((e) => e.type)).toEqual(['agent.tool.failed']);
    // A cursor (GET /v1/events) before the row's latest event still finds the held part before it.
    expect(store.query({ beforeSeq: 4 }).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(store.query({ beforeSeq: 5, limit: 2 }).map((e) => e.seq)).toEqual([3, 4]);
    db.close();
  });

  it('records a second end of the same call as an event of its own, with an id of its own', async () => {
    const batch = await queued((t) => {
      const call = t.describeCall('3', 'read_file', { path: '/a' }, undefined, 30);
      t.guardrailEvaluated(call, allow, true);
      t.toolStarted(call);
      t.toolFinished(call, { error: { code: null, message: 'cancelled' }, resultSize: 0 });
      t.toolFinished(call, { resultSize: 12 });
    });
    expect(batch.map((e) => e.type)).toEqual(['agent.tool.call', 'agent.tool.completed']);
    const db = openStore(storePath());
    const store = new EventStore(db);
    store.insert(batch);
    const read = store.query();
    expect(read.map((e) => e.type)).toEqual([
      'agent.guardrail.evaluated',
      'agent.tool.started',
      'agent.tool.failed',
      'agent.tool.completed',
    ]);
    expect(new Set(read.map((e) => e.id)).size).toBe(4);
    expect(read[3]!.data).toMatchObject({ tool: 'fs.read_file', requestId: '3', resultSize: 12 });
    db.close();
  });

  it('keeps the events of a store made before the calls table, numbered before the new ones', async () => {
    const path = storePath();
    const old = new Database(path);
    old.exec(MIGRATIONS[0]!);
    old.exec(MIGRATIONS[1]!);
    old.pragma('user_version = 2');
    const legacy: RatriEvent = {
      id: '0190e3f0-0000-7000-8000-000000000001',
      type: 'agent.tool.started',
      ts: '2026-11-01T10:00:00.000Z',
      agentKey: 'a',
      environment: 'e',
      serverName: 'fs',
      sessionId: 'old',
      data: { tool: 'fs.read_file', requestId: '1', arguments: { path: '/old' } },
    };
    old
      .prepare(
        `INSERT INTO events (id, ts, type, agent_key, environment, server_name, session_id, tool, decision, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
      )
      .run(legacy.id, legacy.ts, legacy.type, 'a', 'e', 'fs', 'old', 'fs.read_file', JSON.stringify(legacy.data));
    old.close();

    const db = openStore(path);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const store = new EventStore(db);
    store.insert(
      await queued((t) => {
        const call = t.describeCall('2', 'read_file', { path: '/new' }, undefined, 20);
        t.toolStarted(call);
        t.guardrailEvaluated(call, allow, false);
        t.toolFinished(call, { resultSize: 5 });
      }),
    );
    const read = store.query();
    expect(read[0]).toEqual({ seq: 1, ...legacy });
    // Monitor mode records the start before the decision: the order the parts happened in is kept.
    expect(read.slice(1).map((e) => [e.seq, e.type])).toEqual([
      [2, 'agent.tool.started'],
      [3, 'agent.guardrail.evaluated'],
      [4, 'agent.tool.completed'],
    ]);
    expect(store.query({ tool: 'read_file', type: 'agent.tool.started' }).map((e) => e.data.arguments)).toEqual([
      { path: '/old' },
      { path: '/new' },
    ]);
    db.close();
  });
});

describe('the filters GET /v1/events adds (docs/api.md#get-v1events), on both tables', () => {
  it('reads only the agents, server, time and seq range asked for, from calls and events alike', async () => {
    const callOf = async (agentKey: string, serverName: string, tool: string): Promise<QueuedEvent[]> => {
      const seen: QueuedEvent[] = [];
      const sink = {
        write: async () => undefined,
        writeCalls: async (e: QueuedEvent[]) => void seen.push(...e),
        close: async () => undefined,
      };
      const t = new Telemetry({ agentKey, environment: 'e', serverName, sessionId: `s-${agentKey}` }, new EventQueue([sink]), []);
      const call = t.describeCall('1', tool, { path: '/x' }, undefined, 10);
      t.guardrailEvaluated(call, allow, true);
      t.toolStarted(call);
      t.toolFinished(call, { resultSize: 1 });
      await t.close(1000);
      return seen;
    };
    const plain = (id: string, agentKey: string, serverName: string): RatriEvent => ({
      id,
      type: 'proxy.warning',
      ts: new Date().toISOString(),
      agentKey,
      environment: 'e',
      serverName,
      sessionId: `s-${agentKey}`,
      data: { code: 'x' },
    });
    const db = openStore(storePath());
    const store = new EventStore(db);
    store.insert(await callOf('alice', 'fs', 'read_file'));
    store.insert([plain('w-alice', 'alice', 'fs'), plain('w-bob', 'bob', 'web')]);
    store.insert(await callOf('bob', 'web', 'fetch'));
    const all = store.query();
    expect(all.map((e) => [e.seq, e.agentKey, e.type])).toEqual([
      [1, 'alice', 'agent.guardrail.evaluated'],
      [2, 'alice', 'agent.tool.started'],
      [3, 'alice', 'agent.tool.completed'],
      [4, 'alice', 'proxy.warning'],
      [5, 'bob', 'proxy.warning'],
      [6, 'bob', 'agent.guardrail.evaluated'],
      [7, 'bob', 'agent.tool.started'],
      [8, 'bob', 'agent.tool.completed'],
    ]);
    const seqs = (q: Parameters<EventStore['query']>[0]): number[] => store.query(q).map((e) => e.seq);
    expect(seqs({ agents: ['bob'] })).toEqual([5, 6, 7, 8]);
    expect(seqs({ agents: ['alice', 'bob'] })).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(seqs({ agents: [] })).toEqual([]);
    expect(seqs({ serverName: 'fs' })).toEqual([1, 2, 3, 4]);
    expect(seqs({ beforeSeq: 6 })).toEqual([1, 2, 3, 4, 5]);
    expect(seqs({ beforeSeq: 7, limit: 3 })).toEqual([4, 5, 6]);
    expect(seqs({ afterSeq: 2, beforeSeq: 7, agents: ['alice'] })).toEqual([3, 4]);
    expect(seqs({ until: '2000-01-01T00:00:00.000Z' })).toEqual([]);
    expect(seqs({ until: new Date(Date.now() + 60_000).toISOString(), since: '2000-01-01T00:00:00.000Z' })).toHaveLength(8);
    db.close();
  });
});
