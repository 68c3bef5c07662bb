/**
 * `ratri dashboard` end to end, everything real: an enforce-mode proxy in front of the tools fixture
 * server writes to a store, the built `ratri dashboard` serves that store, and a headless Chromium
 * (the system one or @sparticuz/chromium's, see tests/helpers/chromium.ts; driven by playwright-core) opens the page, watches the calls appear and approves or
 * rejects held calls, which the waiting proxy then forwards or refuses. Also: the server's refusals
 * (foreign Host, no token, foreign Origin), its errors and its clean stop. Writes the screenshots in
 * test-results/screenshots/, or in docs/images/ with RATRI_DOC_IMAGES=1 (`npm run docs:images`).
 * Needs `npm run build` first (`npm test` does it).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../lib/control/event-store.js';
import { CallTable } from '../../lib/dashboard/calls.js';
import { CHROMIUM_ARGS, findChromium } from '../helpers/chromium.js';
import { cliPath, fixtureServer, newStore, ProxyProcess, root, runCli, tempDir, writeConfig } from '../helpers/cli.js';

// The README's and docs' screenshots are refreshed on request only, so a test run leaves the tree clean.
const IMAGES = process.env.RATRI_DOC_IMAGES === '1' ? join(root, 'docs', 'images') : join(root, 'test-results', 'screenshots');

/** A running `ratri dashboard`; `url` resolves once it has printed its address. */
class DashboardProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly url: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [cliPath, 'dashboard', ...args], { env: { ...process.env } });
    this.child.stderr.on('data', (c: Buffer) => (this.stderr += c.toString('utf8')));
    this.exited = new Promise((r) => this.child.on('close', (code, signal) => r({ code, signal })));
    this.url = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ratri dashboard printed no address; stderr:\n${this.stderr}`)), 10_000);
      this.child.stdout.on('data', (c: Buffer) => {
        this.stdout += c.toString('utf8');
        const m = /^ratri dashboard: (http:\/\/127\.0\.0\.1:\d+) \(store (.+)\) — Ctrl-C stops$/m.exec(this.stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      void this.exited.then(() => reject(new Error(`ratri dashboard exited early; stderr:\n${this.stderr}`)));
    });
  }
}

const dirs: string[] = [];
const proxies: ProxyProcess[] = [];
const dashboards: DashboardProcess[] = [];
const browsers: Browser[] = [];
afterEach(async () => {
  for (const b of browsers.splice(0)) await b.close();
  for (const p of [...proxies.splice(0), ...dashboards.splice(0)]) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  }
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

interface Setup {
  dir: string;
  store: string;
  proxy: ProxyProcess;
}

/** An enforce-mode proxy in front of the tools fixture: writes need approval, deletes are blocked. */
function startProxy(): Setup {
  const dir = tempDir('ratri-dashboard-');
  dirs.push(dir);
  const store = newStore(dir);
  const config = writeConfig(dir, {
    agentKey: 'laptop',
    serverName: 'files',
    mode: 'enforce',
    approvalTimeoutMs: 30_000,
    redactKeys: ['token'],
    store,
    guardrails: {
      rules: [
        { id: 'ask', tool: 'write_*', decision: 'require_approval', reason: 'writes need a human' },
        { id: 'no-deletes', tool: 'delete_*', decision: 'block', reason: 'deleting is not allowed' },
      ],
    },
    upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
  });
  const proxy = new ProxyProcess(['--config', config]);
  proxies.push(proxy);
  return { dir, store, proxy };
}

function startDashboard(...args: string[]): DashboardProcess {
  const d = new DashboardProcess(args);
  dashboards.push(d);
  return d;
}

/** Script errors and CSP violations each page reported (the test fails on any). */
const pageProblems = new WeakMap<Page, string[]>();

// Found once, outside any test's time limit: the first run on a machine unpacks @sparticuz/chromium's binary.
let chromiumPath = '';
beforeAll(async () => {
  chromiumPath = (await findChromium()).executablePath;
}, 120_000);

async function openPage(url: string): Promise<Page> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  browsers.push(browser);
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const problems: string[] = [];
  pageProblems.set(page, problems);
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
  await page.goto(url);
  await page.locator('#status.live').waitFor({ timeout: 5000 });
  return page;
}

const call = (id: number, name: string, args: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

/** The cells of the table row of `tool` (the newest first), once it shows `outcome`. */
async function rowCells(page: Page, tool: string, outcome: string): Promise<string[]> {
  let cells: string[] = [];
  await expect
    .poll(
      async () => {
        cells = await page.locator('#calls tbody tr.call', { hasText: tool }).first().locator('td').allTextContents();
        return cells[8];
      },
      { timeout: 5000 },
    )
    .toBe(outcome);
  return cells;
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would not let a test set Host). */
function http(url: string, method: string, headers: Record<string, string>, body?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('ratri dashboard in a browser', () => {
  it('shows the calls live, and Approve / Reject on the page decide the calls the proxy holds', async () => {
    const s = startProxy();
    s.proxy.send({ jsonrpc: '2.0', id: 'list-1', method: 'tools/list' });
    await s.proxy.response('list-1');
    s.proxy.send({ jsonrpc: '2.0', id: 'list-2', method: 'tools/list' }); // read_file's description changes
    await s.proxy.response('list-2');
    const dashboard = startDashboard('--store', s.store, '--port', '0');
    const page = await openPage(await dashboard.url);

    s.proxy.send(call(1, 'read_file', { path: '/srv/notes.txt' }));
    expect((await s.proxy.response(1)).result).toEqual({ content: [{ type: 'text', text: 'called read_file' }] });
    s.proxy.send(call(2, 'delete_file', { path: '/srv/notes.txt' }));
    expect((await s.proxy.response(2)).error).toMatchObject({ code: -32001 });
    const read = await rowCells(page, 'files.read_file', 'ok');
    expect(read.slice(1, 7)).toEqual(['files', 'files.read_file', 'read', '/srv/notes.txt', 'allow', '']);
    const blocked = await rowCells(page, 'files.delete_file', 'blocked (-32001)');
    expect(blocked[5]).toBe('block');
    expect(blocked[6]).toBe('no-deletes');

    // The tool registry, with the changed definition highlighted.
    await expect
      .poll(() => page.locator('#tools tbody tr.changed').allTextContents(), { timeout: 5000 })
      .toEqual([expect.stringContaining('read_file')]);

    s.proxy.send(call(7, 'write_file', { path: '/srv/report.txt', content: 'Q3 numbers', token: 'tok-SECRET' }));
    const card = page.locator('.approval', { hasText: 'files.write_file' });
    await card.waitFor({ timeout: 5000 });
    await expect.poll(() => card.locator('.expires').textContent()).toMatch(/^requested .* · expires in /);
    expect(JSON.parse((await card.locator('pre').textContent())!)).toEqual({
      path: '/srv/report.txt',
      content: 'Q3 numbers',
      token: '[REDACTED]',
    });
    for (const name of ['Approve', 'Approve always', 'Reject']) {
      expect(await card.getByRole('button', { name, exact: true }).isEnabled()).toBe(true);
    }
    expect(await page.locator('#approval-count').textContent()).toBe('1');
    await rowCells(page, 'files.write_file', 'held for approval');
    mkdirSync(IMAGES, { recursive: true });
    await page.screenshot({ path: join(IMAGES, 'dashboard-approval.png'), fullPage: true });

    await card.getByRole('button', { name: 'Approve', exact: true }).click();
    const approved = await s.proxy.response(7, 10_000);
    expect(approved.result).toEqual({ content: [{ type: 'text', text: 'called write_file' }] }); // the upstream answered it
    await card.waitFor({ state: 'detached', timeout: 5000 });
    const done = await rowCells(page, 'files.write_file', 'ok');
    expect(done[5]).toBe('require_approval→ approved');
    expect(done[6]).toBe('ask');

    // A second held call, whose arguments try to inject markup: they must appear as text.
    const evil = '</pre><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    s.proxy.send(call(8, 'write_file', { path: '/etc/passwd', content: evil }));
    const second = page.locator('.approval', { hasText: '/etc/passwd' });
    await second.waitFor({ timeout: 5000 });
    expect(JSON.parse((await second.locator('pre').textContent())!)).toEqual({ path: '/etc/passwd', content: evil });
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    await second.getByRole('button', { name: 'Reject', exact: true }).click();
    const rejected = await s.proxy.response(8, 10_000);
    expect(rejected.error).toMatchObject({ code: -32002, message: 'Tool call not approved: approval was rejected' });
    await rowCells(page, 'files.write_file', 'rejected (-32002)');
    expect(await page.locator('#no-approvals').isVisible()).toBe(true);

    // Filters, then a click on the approved call opens its details.
    await page.locator('#filter-decision').selectOption('require_approval');
    await expect.poll(() => page.locator('#calls tbody tr.call').count()).toBe(2);
    await page.locator('#filter-tool').fill('read');
    await expect.poll(() => page.locator('#calls tbody tr.call').count()).toBe(0);
    await page.locator('#filter-tool').fill('');
    await page.locator('#calls tbody tr.call', { hasText: '/srv/report.txt' }).click();
    const detail = page.locator('#calls tbody tr.detail');
    await detail.waitFor({ timeout: 2000 });
    const text = (await detail.textContent())!;
    expect(text).toContain('Arguments (redacted)');
    expect(text).toContain('"token": "[REDACTED]"');
    expect(text).toMatch(/Result size\d+ bytes/);
    expect(text).toMatch(/Approvalapr_[0-9a-f]{10} — approved/);
    await page.locator('#filter-decision').selectOption('');
    await page.screenshot({ path: join(IMAGES, 'dashboard-calls.png'), fullPage: true });
    expect(pageProblems.get(page), 'no script errors or CSP violations in the page').toEqual([]);
  });
});

describe('ratri dashboard shows what it cannot trust visibly', () => {
  it('shows a bidi control in a held tool name as \\u202e, and after "Approve always" names the grant that passes the rule', async () => {
    const s = startProxy();
    const dashboard = startDashboard('--store', s.store, '--port', '0');
    const page = await openPage(await dashboard.url);
    // Shown raw, U+202E reverses what follows: "invoice-\u202egnp.exe" would read "invoice-exe.png".
    s.proxy.send(call(9, 'write_invoice-\u202egnp.exe', { to: 'bob\u2067', note: 'esc \u001b[2J' }));
    const card = page.locator('.approval', { hasText: 'write_invoice' });
    await card.waitFor({ timeout: 5000 });
    expect(await card.locator('.tool').textContent()).toBe('files.write_invoice-\\u202egnp.exe');
    const args = (await card.locator('pre').textContent())!;
    expect(args).toContain('"to": "bob\\u2067"');
    expect(args).toContain('"note": "esc \\u001b[2J"'); // JSON's own escape, left as it is
    const row = await rowCells(page, 'files.write_invoice', 'held for approval');
    expect(row[2]).toBe('files.write_invoice-\\u202egnp.exe');
    const pageText = await page.locator('body').innerText();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
    expect(pageText).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u001b]/);

    await card.getByRole('button', { name: 'Approve always', exact: true }).click();
    expect((await s.proxy.response(9, 10_000)).result).toBeDefined();
    await expect
      .poll(() => card.locator('.message').textContent(), { timeout: 5000 })
      .toMatch(
        new RegExp(
          '^approved: the waiting proxy forwards the call\\. Always: files\\.write_invoice-\\\\u202egnp\\.exe joined the approved tools of agent laptop and its current definition is trusted; ' +
            'grant (grt_[0-9a-f]{10}) lets its calls pass rule "ask" and any other require_approval for this agent without a hold \\(block rules still apply; ratri grants revoke \\1 ends it\\)\\.$',
        ),
      );
    await expect.poll(() => page.locator('#grants tbody tr').count(), { timeout: 5000 }).toBe(1);
    expect(await page.locator('#grants tbody tr td').nth(1).textContent()).toBe('always');
    expect(pageProblems.get(page), 'no script errors or CSP violations in the page').toEqual([]);
  });
});

describe('ratri dashboard and calls whose host is gone', () => {
  it('says on the card that the host no longer waits, and after Approve names the one-time grant for the retry', async () => {
    const s = startProxy();
    const dashboard = startDashboard('--store', s.store, '--port', '0');
    const page = await openPage(await dashboard.url);
    s.proxy.send(call(11, 'write_file', { path: '/srv/a' }));
    const card = page.locator('.approval', { hasText: 'write_file' });
    await card.waitFor({ timeout: 5000 });
    s.proxy.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 11 } });
    await card.locator('.host-gone').waitFor({ timeout: 5000 });
    expect(await card.locator('.host-gone').textContent()).toContain('The host is no longer waiting for this call');
    await card.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect
      .poll(() => card.locator('.message').textContent(), { timeout: 5000 })
      .toMatch(
        /^approved: its host is no longer waiting .* grant grt_[0-9a-f]{10} lets the same call .* pass once without a new hold until /,
      );
    await expect.poll(() => page.locator('#grants tbody tr').count(), { timeout: 5000 }).toBe(1);
    expect(await page.locator('#grants tbody tr td').nth(1).textContent()).toBe('once (late approval)');
    s.proxy.send(call(12, 'write_file', { path: '/srv/a' }));
    expect((await s.proxy.response(12, 5000)).result).toBeDefined();
    expect(pageProblems.get(page), 'no script errors or CSP violations in the page').toEqual([]);
  });
});

describe('ratri dashboard refuses what another site could send', () => {
  it('answers a foreign Host 421, and an /api request without the token or from another origin 403', async () => {
    const s = startProxy();
    const dashboard = startDashboard('--store', s.store, '--port', '0');
    const url = await dashboard.url;
    const host = new URL(url).host;

    const rebound = await http(url, 'GET', { Host: `attacker.example:${new URL(url).port}` });
    expect(rebound.status).toBe(421);
    const page = await http(url, 'GET', {});
    expect(page.status).toBe(200);
    const token = /<meta name="ratri-token" content="([0-9a-f]{64})">/.exec(page.body)![1]!;
    expect(rebound.body).not.toContain(token);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');

    s.proxy.send(call(5, 'write_file', { path: '/srv/a.txt' }));
    let pending: Array<{ id: string; status: string }> = [];
    await expect
      .poll(
        async () => {
          const r = await http(`${url}/api/approvals`, 'GET', { 'X-Ratri-Token': token });
          pending = (JSON.parse(r.body) as { approvals: typeof pending }).approvals;
          return pending.length;
        },
        { timeout: 5000 },
      )
      .toBe(1);
    const resolveUrl = `${url}/api/approvals/${pending[0]!.id}/resolve`;
    const body = JSON.stringify({ approve: true, scope: 'once' });
    const json = { 'Content-Type': 'application/json' };
    const forged = [
      await http(resolveUrl, 'POST', json, body), // no token
      await http(resolveUrl, 'POST', { ...json, 'X-Ratri-Token': 'f'.repeat(64) }, body), // a wrong one
      await http(resolveUrl, 'POST', { ...json, 'X-Ratri-Token': token, Origin: 'https://attacker.example' }, body),
      await http(resolveUrl, 'POST', { ...json, 'X-Ratri-Token': token, 'Sec-Fetch-Site': 'cross-site' }, body),
      await http(resolveUrl, 'POST', { ...json, 'X-Ratri-Token': token, Host: `attacker.example:${new URL(url).port}` }, body),
    ];
    expect(forged.map((r) => r.status)).toEqual([403, 403, 403, 403, 421]);
    expect((await http(`${url}/api/calls`, 'GET', {})).status).toBe(403);
    expect((await http(resolveUrl, 'POST', { 'Content-Type': 'text/plain', 'X-Ratri-Token': token }, body)).status).toBe(415);
    const padded = await http(
      resolveUrl,
      'POST',
      { ...json, 'X-Ratri-Token': token },
      JSON.stringify({ approve: true, pad: 'x'.repeat(5000) }),
    );
    expect(padded.status).toBe(413); // over the 4 KiB a resolve body may have: refused, the call still held
    expect(JSON.parse(padded.body).error).toMatch(/the body is larger than 4096 bytes/);
    const still = await http(`${url}/api/approvals`, 'GET', { 'X-Ratri-Token': token });
    expect((JSON.parse(still.body) as { approvals: unknown[] }).approvals).toHaveLength(1);

    // The page's own request: the same origin and the token.
    const ok = await http(resolveUrl, 'POST', { ...json, 'X-Ratri-Token': token, Origin: `http://${host}` }, body);
    expect(ok.status, ok.body).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ changed: true, approval: { status: 'approved', resolvedBy: 'dashboard', scope: 'once' } });
    expect((await s.proxy.response(5, 10_000)).result).toEqual({ content: [{ type: 'text', text: 'called write_file' }] });
    const again = await http(resolveUrl, 'POST', { ...json, 'X-Ratri-Token': token }, body);
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body).error).toMatch(/was already approved by dashboard; nothing changed/);
  });
});

describe('ratri dashboard and long arguments', () => {
  it('serves an approval with its whole arguments (never cut at 4096); past 64 KiB the card says so and "Show all" shows them', async () => {
    const s = startProxy();
    const dashboard = startDashboard('--store', s.store, '--port', '0');
    const url = await dashboard.url;
    const token = /<meta name="ratri-token" content="([0-9a-f]{64})">/.exec((await http(url, 'GET', {})).body)![1]!;
    const content = `${'z'.repeat(70_000)}THE-END`;
    s.proxy.send(call(5, 'write_file', { path: '/srv/a.txt', content, token: 'tok-SECRET' }));
    let pending: Array<{ arguments: Record<string, unknown> }> = [];
    await expect
      .poll(
        async () => {
          pending = (
            JSON.parse((await http(`${url}/api/approvals`, 'GET', { 'X-Ratri-Token': token })).body) as { approvals: typeof pending }
          ).approvals;
          return pending.length;
        },
        { timeout: 5000 },
      )
      .toBe(1);
    expect(pending[0]!.arguments).toEqual({ path: '/srv/a.txt', content, token: '[REDACTED]' });

    // The card says how large they are; "Show all" shows every character.
    const page = await openPage(url);
    const card = page.locator('#approvals .approval');
    await card.waitFor({ timeout: 5000 });
    const bytes = Buffer.byteLength(JSON.stringify(pending[0]!.arguments));
    expect(await card.locator('pre').textContent()).toBe(`too large to show here: ${bytes} bytes`);
    await card.getByRole('button', { name: 'Show all' }).click();
    const shown = (await card.locator('pre').textContent())!;
    expect(shown).toContain(`"content": "${content}"`);
    expect(shown).toContain('"token": "[REDACTED]"');
    expect(shown).not.toContain('tok-SECRET');
    expect(await card.getByRole('button', { name: 'Show all' }).count()).toBe(0);
    expect(pageProblems.get(page), 'no script errors or CSP violations in the page').toEqual([]);
  });
});

describe('ratri dashboard as a command', () => {
  it('stops cleanly on SIGINT and SIGTERM (exit 0)', async () => {
    const dir = tempDir('ratri-dashboard-');
    dirs.push(dir);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const d = startDashboard('--store', newStore(dir), '--port', '0');
      const url = await d.url;
      expect((await http(url, 'GET', {})).status).toBe(200); // leaves a keep-alive connection open
      d.child.kill(signal);
      expect(await d.exited).toEqual({ code: 0, signal: null });
    }
  });

  it('fails with exit 1 when the port is in use, and when the config uses a remote API', async () => {
    const dir = tempDir('ratri-dashboard-');
    dirs.push(dir);
    const first = startDashboard('--store', newStore(dir), '--port', '0');
    const port = new URL(await first.url).port;
    const busy = await runCli(['dashboard', '--store', join(dir, 'ratri.db'), '--port', port]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toBe(
      `ratri: port ${port} on 127.0.0.1 is already in use; stop what uses it or pick another --port (0 picks a free one)\n`,
    );

    const config = writeConfig(dir, {
      agentKey: 'laptop',
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
      api: { url: 'https://ratri.example.com' },
    });
    const remote = await runCli(['dashboard', '--config', config, '--port', '0']);
    expect(remote.code).toBe(1);
    expect(remote.stderr).toContain('uses the remote control plane at https://ratri.example.com; "ratri dashboard" reads a local store');
  });

  it('refuses to listen on an address other machines can reach (exit 2)', async () => {
    const r = await runCli(['dashboard', '--host', '0.0.0.0', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('listens only on this machine');
  });
});

describe('grouping events into calls (lib/dashboard/calls.ts)', () => {
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>, sessionId = 's1'): StoredEvent => ({
    seq: ++seq,
    id: `e${seq}`,
    type: type as StoredEvent['type'],
    ts: new Date(1_800_000_000_000 + seq).toISOString(),
    agentKey: 'a',
    environment: 'development',
    serverName: 'fs',
    sessionId,
    data,
  });
  const tool = (name: string, requestId: string) => ({
    tool: `fs.${name}`,
    requestId,
    action: 'write',
    resource: { type: 'file', value: '/x' },
    riskLevel: 'medium',
  });

  it('folds a held, approved and completed call into one row, and follows it by seq', () => {
    const t = new CallTable();
    t.add([
      ev('agent.guardrail.evaluated', {
        ...tool('write', '7'),
        decision: 'require_approval',
        ruleId: 'ask',
        reason: 'r',
        latencyMs: 1,
        enforced: true,
      }),
      ev('agent.approval.requested', {
        approvalId: 'apr_1',
        tool: 'fs.write',
        requestId: '7',
        ruleId: 'ask',
        reason: 'r',
        arguments: { p: 1 },
        timeoutMs: 9,
      }),
    ]);
    expect(t.changedSince(0)).toMatchObject([{ status: 'held', approval: 'pending', decision: 'require_approval', arguments: { p: 1 } }]);
    const mark = t.lastSeq;
    t.add([
      ev('mcp.session.ended', { durationMs: 1 }),
      ev('agent.approval.resolved', { approvalId: 'apr_1', tool: 'fs.write', outcome: 'approved' }),
      ev('agent.tool.started', { ...tool('write', '7'), arguments: { p: 1 }, argumentsSize: 50 }),
      ev('agent.tool.completed', { ...tool('write', '7'), durationMs: 12.5, argumentsSize: 50, resultSize: 80 }),
    ]);
    const rows = t.changedSince(mark);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'completed',
      approval: 'approved',
      approvalId: 'apr_1',
      durationMs: 12.5,
      resultSize: 80,
      ruleId: 'ask',
    });
    expect(t.changedSince(t.lastSeq)).toEqual([]);
  });

  it('keeps calls of other sessions and reused request ids apart, and shows a call seen only by its end', () => {
    const t = new CallTable();
    t.add([
      ev('agent.tool.failed', {
        ...tool('x', '1'),
        durationMs: 1,
        argumentsSize: 1,
        resultSize: 9,
        error: { code: -32001, message: 'no' },
      }),
      ev('agent.guardrail.evaluated', {
        ...tool('y', '1'),
        decision: 'allow',
        ruleId: null,
        reason: 'no rule matched',
        latencyMs: 0,
        enforced: false,
      }),
      ev(
        'agent.guardrail.evaluated',
        { ...tool('y', '1'), decision: 'allow', ruleId: null, reason: 'no rule matched', latencyMs: 0, enforced: true },
        's2',
      ),
      ev('agent.tool.started', { ...tool('y', '1'), arguments: {}, argumentsSize: 3 }),
      ev('agent.tool.failed', { ...tool('y', '1'), durationMs: 2, argumentsSize: 3, resultSize: 4, isError: true }),
    ]);
    expect(t.changedSince(0).map((r) => [r.sessionId, r.tool, r.status, r.decision, r.enforced, r.error?.code ?? null, r.isError])).toEqual(
      [
        ['s1', 'fs.x', 'failed', null, null, -32001, false],
        ['s1', 'fs.y', 'failed', 'allow', false, null, true],
        ['s2', 'fs.y', 'evaluated', 'allow', true, null, false],
      ],
    );
  });

  it('forgets the oldest calls beyond its limit', () => {
    const t = new CallTable(2);
    t.add(['1', '2', '3'].map((id) => ev('agent.tool.started', { ...tool('z', id), arguments: {}, argumentsSize: 1 })));
    expect(t.size).toBe(2);
    expect(t.changedSince(0).map((r) => r.requestId)).toEqual(['2', '3']);
  });
});
