/** The outbox of the remote control plane (lib/control/outbox.ts), over a real SQLite store in a temp folder. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Outbox, OutboxSink, type UploadResult } from '../../lib/control/outbox.js';
import { openStore } from '../../lib/control/store.js';
import type { RatriEvent } from '../../lib/telemetry/event.js';
import { tempDir } from '../helpers/cli.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function storePath(): string {
  const dir = tempDir('ratri-outbox-');
  dirs.push(dir);
  return join(dir, 'ratri.db');
}

let n = 0;
function events(count: number): RatriEvent[] {
  return Array.from({ length: count }, () => ({
    id: `e${++n}`,
    type: 'agent.tool.started',
    ts: new Date().toISOString(),
    agentKey: 'a',
    environment: 'test',
    serverName: 's',
    sessionId: 'x',
    data: {},
  }));
}

const ids = (list: RatriEvent[]): string[] => list.map((e) => e.id);

describe('Outbox', () => {
  it('lets two processes claim disjoint rows, oldest first, and gives released or lapsed leases out again', () => {
    const path = storePath();
    const [one, two] = [new Outbox(openStore(path)), new Outbox(openStore(path))];
    const batch = events(5);
    one.add(batch);
    const a = one.claim(3, 1000, 10_000);
    const b = two.claim(3, 1000, 10_000);
    expect(ids(a.events)).toEqual(ids(batch.slice(0, 3)));
    expect(ids(b.events)).toEqual(ids(batch.slice(3)));
    expect(two.claim(3, 1000, 10_500).seqs).toEqual([]); // all leased
    two.release(b.seqs);
    expect(ids(one.claim(3, 1000, 10_500).events)).toEqual(ids(batch.slice(3)));
    one.remove(a.seqs);
    // The leases above end at 11 000 and 11 500; a claimer that died leaves rows for later.
    expect(two.claim(10, 1000, 12_000).events.map((e) => e.id)).toEqual(ids(batch.slice(3)));
  });

  it('keeps at most its capacity, dropping the oldest and counting them', () => {
    const outbox = new Outbox(openStore(storePath()), 4);
    const batch = events(6);
    expect(outbox.add(batch)).toBe(2);
    expect(outbox.dropped).toBe(2);
    expect(ids(outbox.claim(10).events)).toEqual(ids(batch.slice(2)));
  });
});

describe('OutboxSink', () => {
  it('posts directly while the outbox is empty, queues in order while the API fails, and drains oldest-first', async () => {
    const outbox = new Outbox(openStore(storePath()));
    let up = true;
    const uploaded: string[] = [];
    const logs: string[] = [];
    const upload = (batch: RatriEvent[]): Promise<UploadResult> => {
      if (!up) return Promise.resolve({ outcome: 'retry', reason: 'ECONNREFUSED' });
      uploaded.push(...ids(batch));
      return Promise.resolve({ outcome: 'stored' });
    };
    const sink = new OutboxSink(outbox, upload, (m) => logs.push(m), 'the store');
    const [first, second, third] = [events(2), events(2), events(2)];
    await sink.write(first);
    expect(outbox.isEmpty()).toBe(true);
    up = false;
    await sink.write(second);
    up = true;
    await sink.write(third); // the API answers again, but older events wait: this batch queues behind them
    expect(outbox.size).toBe(4);
    expect(logs.filter((l) => l.includes('ECONNREFUSED'))).toHaveLength(1);
    expect(await sink.shutdown(2000)).toBe(0);
    expect(uploaded).toEqual(ids([...first, ...second, ...third]));
  });

  it('copies a post still unanswered at shutdown to the outbox, for the next proxy to upload', async () => {
    const outbox = new Outbox(openStore(storePath()));
    const sink = new OutboxSink(
      outbox,
      () => new Promise<UploadResult>(() => undefined),
      () => undefined,
      'the store',
    );
    const batch = events(3);
    void sink.write(batch);
    expect(await sink.shutdown(100)).toBe(3);
    expect(ids(outbox.claim(10).events)).toEqual(ids(batch));
  });
});
