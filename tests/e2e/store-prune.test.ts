/**
 * `ratri store info|prune` on real SQLite files: old history goes, recent history and the state the
 * proxies need (tool registry, pending approvals) stay, and a proxy writing events while a prune runs
 * loses none of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EventStore } from '../../lib/control/event-store.js';
import { LocalControlPlane } from '../../lib/control/local-control-plane.js';
import type { RatriEvent } from '../../lib/telemetry/event.js';
import { newEventId } from '../../lib/telemetry/event-id.js';
import { cleanUpAfterEach, fixtureServer, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';

const DAY = 86_400_000;
const { dir, track } = cleanUpAfterEach('ratri-prune-');

/** Seeds `count` events recorded `daysAgo` days ago, and two old approvals (one decided, one pending). */
function seedOldHistory(store: string, count: number, daysAgo: number): void {
  const plane = LocalControlPlane.open(store);
  const at = Date.now() - daysAgo * DAY;
  const events: RatriEvent[] = [];
  for (let i = 0; i < count; i++) {
    events.push({
      id: newEventId(at + i),
      type: 'agent.tool.completed',
      ts: new Date(at + i).toISOString(),
      agentKey: 'old-agent',
      environment: 'development',
      serverName: 'files',
      sessionId: 'old-session',
      data: { tool: 'files.read_file', requestId: String(i) },
    } as RatriEvent);
  }
  for (let i = 0; i < events.length; i += 500) plane.eventStore.insert(events.slice(i, i + 500));
  const old = new Date(at).toISOString();
  const insert = plane.db.prepare(
    `INSERT INTO approvals (id, status, agent_key, server_name, tool, arguments, requested_at, expires_at)
     VALUES (?, ?, 'old-agent', 'files', 'write_file', '{}', ?, ?)`,
  );
  insert.run('apr_0000000001', 'approved', old, old);
  insert.run('apr_0000000002', 'pending', old, old);
  // Three grants that ended long ago (revoked, expired, a once-grant used) and two that still apply.
  const grant = plane.db.prepare(
    `INSERT INTO grants (id, kind, agent_key, server_name, tool, created_at, expires_at, used_at, revoked_at)
     VALUES (?, ?, 'old-agent', 'files', 'write_file', ?, ?, ?, ?)`,
  );
  grant.run('grt_revoked', 'always', old, null, null, old);
  grant.run('grt_expired', 'always', old, old, null, null);
  grant.run('grt_used', 'once', old, null, old, null);
  grant.run('grt_always', 'always', old, null, null, null);
  grant.run('grt_unused', 'once', old, new Date(Date.now() + DAY).toISOString(), null, null);
  void plane.close();
}

function proxy(d: string): ProxyProcess {
  const config = writeConfig(d, {
    agentKey: 'agent-prune',
    serverName: 'files',
    mode: 'monitor',
    store: join(d, 'ratri.db'),
    telemetry: { jsonl: join(d, 'events.jsonl') },
    upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
  });
  const p = new ProxyProcess(['--config', config]);
  return track(p);
}

const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'read_file', arguments: { path: `/f/${id}` } } });

function storedIds(store: string): { old: number; ids: Set<string>; approvals: string[]; grants: string[]; tools: number } {
  const db = new Database(store, { readonly: true });
  try {
    return {
      old: db.prepare("SELECT count(*) FROM events WHERE agent_key = 'old-agent'").pluck().get() as number,
      // Every event, with those read back from the calls table (docs/events.md#one-record-per-call).
      ids: new Set(new EventStore(db).query({ limit: 1_000_000 }).map((e) => e.id)),
      approvals: db.prepare('SELECT id FROM approvals ORDER BY id').pluck().all() as string[],
      grants: db.prepare('SELECT id FROM grants ORDER BY id').pluck().all() as string[],
      tools: db.prepare('SELECT count(*) FROM tools').pluck().get() as number,
    };
  } finally {
    db.close();
  }
}

describe('ratri store', () => {
  it('prunes history older than --older-than, keeps recent events, registered tools and pending approvals', async () => {
    const d = dir();
    const store = join(d, 'ratri.db');
    seedOldHistory(store, 12_000, 40);
    const p = proxy(d);
    p.send({ jsonrpc: '2.0', id: 0, method: 'tools/list' });
    for (let i = 1; i <= 20; i++) p.send(call(i));
    await p.response(20);
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
    const recent = readFileSync(join(d, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);

    const info = await runCli(['store', 'info', '--store', store, '--json']);
    expect(info.code, info.stderr).toBe(0);
    const before = JSON.parse(info.stdout) as {
      events: number;
      oldestEvent: string;
      approvals: { pending: number; total: number };
      tools: number;
      bytes: number;
    };
    expect(before.events).toBe(12_000 + recent.length);
    expect(Date.parse(before.oldestEvent)).toBeLessThan(Date.now() - 39 * DAY);
    expect(before.approvals).toEqual({ pending: 1, total: 2 });
    expect(before.tools).toBeGreaterThan(0);

    const dry = await runCli(['store', 'prune', '--store', store, '--older-than', '30d', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^would delete 12000 event\(s\), 1 decided approval\(s\) and 3 ended grant\(s\) recorded before \d{4}-/);
    expect(storedIds(store).old).toBe(12_000);

    const pruned = await runCli(['store', 'prune', '--store', store, '--older-than', '30d']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(
      new RegExp(`deleted 12000 event\\(s\\), 1 decided approval\\(s\\) and 3 ended grant\\(s\\) .*; ${recent.length} event\\(s\\) remain`),
    );
    expect(pruned.stdout).toMatch(/the file keeps its size .* --vacuum gives it back/);
    const after = storedIds(store);
    expect(after.old).toBe(0);
    expect(after.ids).toEqual(new Set(recent));
    expect(after.approvals).toEqual(['apr_0000000002']); // the pending one stays, however old
    expect(after.grants).toEqual(['grt_always', 'grt_unused']); // grants that still let calls pass stay, however old
    expect(after.tools).toBe(before.tools);

    const table = await runCli(['store', 'info', '--store', store]);
    expect(table.stdout).toMatch(
      new RegExp(`^store ${store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+\\.\\d MB, schema version \\d+\\)`),
    );
    expect(table.stdout).toMatch(new RegExp(`events\\s+${recent.length}, from `));
  });

  it('--vacuum gives the space back to the disk', async () => {
    const d = dir();
    const store = join(d, 'ratri.db');
    seedOldHistory(store, 20_000, 10);
    const result = await runCli(['store', 'prune', '--store', store, '--older-than', '1d', '--vacuum', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as {
      deleted: { events: number };
      remainingEvents: number;
      bytesBefore: number;
      bytesAfter: number;
    };
    expect(out.deleted.events).toBe(20_000);
    expect(out.remainingEvents).toBe(0);
    expect(out.bytesAfter).toBeLessThan(out.bytesBefore / 4);
  });

  it('loses no event of a proxy writing while the prune runs', async () => {
    const d = dir();
    const store = join(d, 'ratri.db');
    seedOldHistory(store, 60_000, 40);
    const p = proxy(d);
    let id = 0;
    p.send({ jsonrpc: '2.0', id: id, method: 'tools/list' });
    await p.response(0);
    const prune = runCli(['store', 'prune', '--store', store, '--older-than', '30d', '--json']);
    let pruneDone = false;
    void prune.then(() => (pruneDone = true));
    // Calls keep coming, 25 at a time, for as long as the prune runs (and at least 4 rounds).
    for (let round = 0; !pruneDone || round < 4; round++) {
      for (let i = 0; i < 25; i++) p.send(call(++id));
      await p.response(id);
    }
    const result = await prune;
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { deleted: { events: number } }).deleted.events).toBe(60_000);
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
    expect(p.stderr).not.toMatch(/telemetry/); // no failed or dropped batch
    const written = readFileSync(join(d, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);
    const after = storedIds(store);
    expect(after.old).toBe(0);
    expect(after.ids).toEqual(new Set(written));
    expect(written.length).toBeGreaterThanOrEqual(3 * id);
  });

  it('refuses an --older-than it cannot read, naming the option, and deletes nothing', async () => {
    const d = dir();
    const store = join(d, 'ratri.db');
    seedOldHistory(store, 10, 40);
    const result = await runCli(['store', 'prune', '--store', store, '--older-than', 'last tuesday']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--older-than "last tuesday": expected a duration such as 30s, 10m, 2h, 7d, or a date/);
    expect(storedIds(store).old).toBe(10);
  });
});
