/**
 * What ratri writes to disk, through the built CLI: `$RATRI_HOME` and the folders it makes are 0700,
 * the store (with its -wal and -shm), JSONL sinks and `--record` files 0600; a redacted value reaches
 * no sink, not even through the reason of an invalid-JSON warning; `--record` applies `redactKeys`
 * unless `--record-unredacted` says otherwise (docs/golden-files.md).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, fixtureServer, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';

const { dir, track } = cleanUpAfterEach('ratri-writes-');

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

const SECRET = 'hunter2-SECRET-value';
// Not JSON, and V8's message for it quotes the text around the bad token: `..."password":hunter2-SE"...`.
const BROKEN_FRAME = `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"login","arguments":{"password":${SECRET}}}}`;

function proxyConfig(d: string, fields: Record<string, unknown>): string {
  return writeConfig(d, {
    agentKey: 'agent-writes',
    serverName: 'fs',
    redactKeys: ['password'],
    upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
    ...fields,
  });
}

describe('file modes', () => {
  it('makes $RATRI_HOME and the folders it creates 0700; the store, its -wal and -shm, the JSONL sink and the recording 0600', async () => {
    const d = dir();
    const home = join(d, 'home');
    const jsonl = join(d, 'out', 'deeper', 'events.jsonl');
    const record = join(d, 'rec', 'session.golden.jsonl');
    const config = proxyConfig(d, { redactKeys: [], telemetry: { jsonl } });
    const proxy = track(new ProxyProcess(['--config', config, '--record', record], { RATRI_HOME: home }));
    proxy.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path: '/a' } } });
    await proxy.response(1);
    const store = join(home, 'ratri.db');
    // While the proxy runs, SQLite keeps the -wal and -shm files next to the store.
    for (let i = 0; i < 50 && !existsSync(`${store}-shm`); i++) await new Promise((r) => setTimeout(r, 100));
    const modes = Object.fromEntries(
      [home, store, `${store}-wal`, `${store}-shm`, join(d, 'out'), join(d, 'out', 'deeper'), jsonl, join(d, 'rec'), record].map((p) => [
        p.slice(d.length),
        mode(p),
      ]),
    );
    expect(modes).toEqual({
      '/home': '700',
      '/home/ratri.db': '600',
      '/home/ratri.db-wal': '600',
      '/home/ratri.db-shm': '600',
      '/out': '700',
      '/out/deeper': '700',
      '/out/deeper/events.jsonl': '600',
      '/rec': '700',
      '/rec/session.golden.jsonl': '600',
    });
    proxy.child.stdin.end();
    expect((await proxy.exited).code).toBe(0);
  });

  it('makes a recording that overwrites an existing, readable file 0600', async () => {
    const d = dir();
    const record = join(d, 'old.golden.jsonl');
    writeFileSync(record, 'old\n', { mode: 0o644 });
    const proxy = track(new ProxyProcess(['--config', proxyConfig(d, { redactKeys: [], store: join(d, 'ratri.db') }), '--record', record]));
    proxy.child.stdin.end();
    await proxy.exited;
    expect(mode(record)).toBe('600');
    expect(readFileSync(record, 'utf8')).not.toContain('old\n');
  });
});

describe('the reason of an invalid-JSON warning', () => {
  for (const m of ['enforce', 'monitor'] as const) {
    it(`${m} mode: is stored without the part of the frame V8 quotes`, async () => {
      const d = dir();
      const store = join(d, 'ratri.db');
      const jsonl = join(d, 'events.jsonl');
      const proxy = track(new ProxyProcess(['--config', proxyConfig(d, { mode: m, store, telemetry: { jsonl } })]));
      proxy.send(BROKEN_FRAME);
      proxy.send({ jsonrpc: '2.0', id: 2, method: 'ping' });
      await proxy.response(2);
      proxy.child.stdin.end();
      expect((await proxy.exited).code).toBe(0);

      const db = new Database(store, { readonly: true });
      const warnings = db.prepare("SELECT data FROM events WHERE type = 'proxy.warning'").pluck().all() as string[];
      // The events table, and the calls table's text columns (docs/events.md#one-record-per-call).
      const texts = db.prepare("SELECT data FROM events UNION ALL SELECT concat_ws('\n', arguments, base, parts) FROM calls").pluck();
      const everything = (texts.all() as string[]).join('\n');
      db.close();
      expect(warnings.map((w) => JSON.parse(w))).toEqual([
        expect.objectContaining({
          kind: 'invalid_json',
          reason: 'Unexpected token: the frame is not valid JSON (its text is not recorded)',
        }),
      ]);
      expect(everything).not.toContain('hunter2');
      expect(readFileSync(jsonl, 'utf8')).not.toContain('hunter2');
      const shown = await runCli(['events', '--store', store, '--type', 'proxy.warning']);
      expect(shown.stdout).toContain('invalid_json: Unexpected token: the frame is not valid JSON');
    });
  }
});

describe('redactKeys', () => {
  it('redacts keys that a Go server reads as the same name (PASSWORD, paſſword) in the store and the JSONL sink', async () => {
    const d = dir();
    const store = join(d, 'ratri.db');
    const jsonl = join(d, 'events.jsonl');
    const proxy = track(new ProxyProcess(['--config', proxyConfig(d, { mode: 'enforce', store, telemetry: { jsonl } })]));
    // One such key per object: two in one object would be refused as ambiguous.
    const args = { PASSWORD: `a-${SECRET}`, nested: { 'pa\u017f\u017fword': `b-${SECRET}` }, more: [{ PassWord: `c-${SECRET}` }] };
    proxy.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: args } });
    expect((await proxy.response(1)).result).toBeDefined(); // forwarded
    proxy.child.stdin.end();
    expect((await proxy.exited).code).toBe(0);
    const db = new Database(store, { readonly: true });
    // The events table, and the calls table's text columns (docs/events.md#one-record-per-call).
    const texts = db.prepare("SELECT data FROM events UNION ALL SELECT concat_ws('\n', arguments, base, parts) FROM calls").pluck();
    const everything = (texts.all() as string[]).join('\n');
    db.close();
    expect(everything).toContain('[REDACTED]');
    expect(everything).not.toContain(SECRET);
    expect(readFileSync(jsonl, 'utf8')).not.toContain(SECRET);
  });
});

describe('--record', () => {
  // Odd but valid bytes: a frame with nothing to redact must be recorded exactly so.
  const PLAIN = '{ "jsonrpc":"2.0", "id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/srv/caf\\u00e9"}}}';
  const WITH_SECRET = JSON.stringify({
    jsonrpc: '2.0',
    id: 2,
    method: 'tools/call',
    params: { name: 'read_file', arguments: { path: '/b', Password: SECRET } },
  });
  // The secret hides in the first of two "params": JSON.parse keeps the second, which has nothing to redact.
  const DUPLICATE = `{"jsonrpc":"2.0","id":3,"method":"ping","params":{"token":"tok-${SECRET}"},"params":{}}`;

  async function record(d: string, frames: string[], extra: string[] = []): Promise<{ file: string; text: string; stderr: string }> {
    const file = join(d, 'session.golden.jsonl');
    const config = proxyConfig(d, { mode: 'enforce', redactKeys: ['password', 'token'], store: join(d, 'ratri.db') });
    const proxy = track(new ProxyProcess(['--config', config, '--record', file, ...extra]));
    for (const f of frames) proxy.send(f);
    proxy.send({ jsonrpc: '2.0', id: 99, method: 'ping' });
    await proxy.response(99);
    proxy.child.stdin.end();
    expect((await proxy.exited).code).toBe(0);
    return { file, text: readFileSync(file, 'utf8'), stderr: proxy.stderr };
  }

  it('redacts the values of redactKeys in every direction, keeps every other byte, and the recording replays', async () => {
    const d = dir();
    const { file, text } = await record(d, [PLAIN, WITH_SECRET, DUPLICATE]);
    expect(text).not.toContain('hunter2');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({
      golden: 1,
      description: 'recorded by ratri mcp proxy --record, the values of password, token redacted, secret values redacted',
    });
    expect(lines).toContainEqual({ from: 'host', text: PLAIN });
    expect(lines).toContainEqual({ to: 'upstream', text: PLAIN });
    const redacted = JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'read_file', arguments: { path: '/b', Password: '[REDACTED]' } },
    });
    expect(lines).toContainEqual({ from: 'host', text: redacted, redacted: true });
    expect(lines).toContainEqual({ to: 'upstream', text: redacted, redacted: true });
    // Redacted in place: the duplicate stays, so the replayed proxy reads (and refuses) it as it did.
    expect(lines).toContainEqual({
      from: 'host',
      text: '{"jsonrpc":"2.0","id":3,"method":"ping","params":{"token":"[REDACTED]"},"params":{}}',
      redacted: true,
    });
    const replay = await runCli(['replay', file]);
    expect(replay.stdout + replay.stderr).toMatch(/✓ .*session\.golden\.jsonl/);
    expect(replay.code).toBe(0);
  });

  it('withholds a frame that is not JSON, and the -32700 answer that quotes it; replaying that file says why it cannot', async () => {
    const d = dir();
    const { file, text } = await record(d, [BROKEN_FRAME]);
    expect(text).not.toContain('hunter2');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual({
      from: 'host',
      withheld: `not JSON (${Buffer.byteLength(BROKEN_FRAME)} bytes), so it cannot be redacted`,
    });
    expect(lines).toContainEqual({ to: 'host', withheld: 'a -32700 answer, whose message quotes a frame that was not JSON' });
    const replay = await runCli(['replay', file]);
    expect(replay.code).toBe(1);
    expect(replay.stdout + replay.stderr).toContain('--record withheld this frame (not JSON');
    expect(replay.stdout + replay.stderr).toContain('record the session again with --record-unredacted');
  });

  it('--record-unredacted keeps every frame byte for byte, and says so on stderr', async () => {
    const d = dir();
    const { file, text, stderr } = await record(d, [WITH_SECRET, BROKEN_FRAME], ['--record-unredacted']);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual({ from: 'host', text: WITH_SECRET });
    expect(lines).toContainEqual({ from: 'host', text: BROKEN_FRAME });
    expect(stderr).toContain(
      `ratri: --record-unredacted: ${file} keeps every frame as it crossed the proxy, the values of password, token and secret values included (the file is 0600)`,
    );
    const alone = await runCli(['mcp', 'proxy', '--config', join(d, 'ratri.mcp.json'), '--record-unredacted']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--record-unredacted goes with --record FILE');
  });
});
