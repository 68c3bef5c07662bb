/**
 * Helpers for the conformance parity test (tests/e2e/conformance.test.ts): start the targets, run the
 * official `@modelcontextprotocol/conformance` server scenarios against a URL, read its per-scenario
 * `checks.json` files and compare two runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliPath, everythingServer, root, writeConfig } from './cli.js';

export const conformanceBin = join(root, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');

/** A status of one conformance check, as written in checks.json. */
export type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';

export interface Check {
  id: string;
  status: CheckStatus;
  errorMessage?: string;
}

export interface ScenarioResult {
  scenario: string;
  passed: number;
  failed: number;
  warnings: number;
  /** true when the scenario has at least one SUCCESS check and no FAILURE check (the runner's ✓). */
  ok: boolean;
  /** First failure message, for the report. */
  error?: string;
  checks: Check[];
}

export interface ConformanceRun {
  url: string;
  results: Map<string, ScenarioResult>;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Target {
  url: string;
  pid: number;
  stderr: () => string;
  stop: () => Promise<void>;
}

/** A TCP port that was free a moment ago (server-everything has no "port 0 and tell me" mode). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('close', () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

/** Waits until `pattern` appears in the child's stderr (or stdout); rejects on exit or timeout. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, label: string, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  return new Promise((resolveWait, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      const match = seen.match(pattern);
      if (match) {
        cleanup();
        resolveWait(match);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`${label} exited (code ${code}, signal ${signal}) before printing ${pattern}; output:\n${seen}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${label} did not print ${pattern} within ${timeoutMs} ms; output:\n${seen}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.on('exit', onExit);
  });
}

export function collect(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (c: Buffer) => (text += c.toString('utf8')));
  return () => text;
}

/** server-everything serving Streamable HTTP itself (`node dist/index.js streamableHttp`, PORT env). */
export async function startEverythingHttp(): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [everythingServer, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr = collect(child);
  child.stdout?.resume(); // it logs every request on stdout; keep the pipe drained
  await waitForOutput(child, /listening on port (\d+)/, 'server-everything streamableHttp');
  return { url: `http://127.0.0.1:${port}/mcp`, pid: child.pid!, stderr, stop: () => stopChild(child) };
}

/**
 * server-everything in stdio mode behind `ratri mcp proxy --transport http --port 0`; the URL is taken
 * from the line ratri prints on stderr.
 */
export async function startRatriHttp(
  dir: string,
  upstreamArgs: string[] = [everythingServer, 'stdio'],
  extraArgs: string[] = [],
  mode: 'monitor' | 'enforce' = 'monitor',
): Promise<Target> {
  mkdirSync(dir, { recursive: true });
  const config = writeConfig(dir, {
    agentKey: 'conformance',
    mode,
    store: join(dir, 'ratri.db'),
    upstream: { command: process.execPath, args: upstreamArgs },
  });
  const child = spawn(process.execPath, [cliPath, 'mcp', 'proxy', '--config', config, '--transport', 'http', '--port', '0', ...extraArgs], {
    env: { ...process.env, RATRI_HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr = collect(child);
  child.stdout?.resume();
  const match = await waitForOutput(child, /serving MCP over Streamable HTTP at (http:\/\/\S+)/, 'ratri mcp proxy --transport http');
  return { url: match[1]!, pid: child.pid!, stderr, stop: () => stopChild(child) };
}

/**
 * A deliberately broken HTTP front for showing that the parity check can fail: it forwards every
 * request to `targetUrl` unchanged (streaming the answer, so SSE works), except that a POST whose
 * JSON-RPC method is `breakMethod` is answered with HTTP 500 and a JSON-RPC error.
 */
export async function startBrokenForwarder(targetUrl: string, breakMethod: string): Promise<Target & { broken: () => number }> {
  const target = new URL(targetUrl);
  let broken = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST') {
        try {
          const parsed = JSON.parse(body.toString('utf8')) as { method?: string; id?: unknown } | Array<{ method?: string }>;
          const methods = Array.isArray(parsed) ? parsed.map((m) => m.method) : [parsed.method];
          if (methods.includes(breakMethod)) {
            broken++;
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify({
                jsonrpc: '2.0',
                id: Array.isArray(parsed) ? null : (parsed.id ?? null),
                error: { code: -32603, message: 'broken on purpose' },
              }),
            );
            return;
          }
        } catch {
          // not JSON: forward as is
        }
      }
      const headers = { ...req.headers, host: target.host };
      const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      res.on('close', () => upstream.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    pid: process.pid,
    stderr: () => '',
    broken: () => broken,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Output directories are named `server-<scenario>-<ISO timestamp with ':' and '.' as '-'>`. */
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

export function readResults(outDir: string): Map<string, ScenarioResult> {
  const results = new Map<string, ScenarioResult>();
  if (!existsSync(outDir)) return results;
  for (const entry of readdirSync(outDir).sort()) {
    const match = entry.match(RESULT_DIR);
    if (!match) continue;
    const scenario = match[1]!;
    const file = join(outDir, entry, 'checks.json');
    let checks: Check[] = [];
    try {
      checks = JSON.parse(readFileSync(file, 'utf8')) as Check[];
    } catch {
      checks = [{ id: 'checks.json', status: 'FAILURE', errorMessage: `no readable ${file}` }];
    }
    const count = (s: CheckStatus): number => checks.filter((c) => c.status === s).length;
    const passed = count('SUCCESS');
    const failed = count('FAILURE');
    results.set(scenario, {
      scenario,
      passed,
      failed,
      warnings: count('WARNING'),
      ok: passed > 0 && failed === 0,
      error: checks.find((c) => c.status === 'FAILURE')?.errorMessage,
      checks,
    });
  }
  return results;
}

/** The scenario names the installed conformance package offers for servers (`conformance list --server`). */
export function listServerScenarios(): Promise<string[]> {
  return new Promise((resolveList, reject) => {
    const child = spawn(process.execPath, [conformanceBin, 'list', '--server'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', () => resolveList([...out.matchAll(/^\s*-\s+(\S+)\s*$/gm)].map((m) => m[1]!)));
  });
}

/**
 * Runs `conformance server --url URL --suite SUITE -o OUTDIR` to completion and reads its results.
 * The runner exits 1 whenever any check fails, so the exit code is reported, not judged.
 */
export function runConformance(
  url: string,
  outDir: string,
  suite = 'all',
  timeoutMs = 100_000,
  runner: { node: string; bin: string; args?: string[] } = { node: process.execPath, bin: conformanceBin },
): Promise<ConformanceRun> {
  const started = Date.now();
  return new Promise((resolveRun, reject) => {
    const args = [runner.bin, 'server', '--url', url, '--suite', suite, '-o', outDir, ...(runner.args ?? [])];
    const child = spawn(runner.node, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`conformance against ${url} did not finish within ${timeoutMs} ms\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolveRun({ url, results: readResults(outDir), exitCode, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export interface Regression {
  scenario: string;
  reason: string;
}

/**
 * Every scenario that passes against `baseline` must pass against `candidate`, and every check that
 * succeeded there must succeed here (same id, at least as many times).
 */
export function parityRegressions(baseline: Map<string, ScenarioResult>, candidate: Map<string, ScenarioResult>): Regression[] {
  const regressions: Regression[] = [];
  for (const [scenario, base] of baseline) {
    if (!base.ok) continue;
    const got = candidate.get(scenario);
    if (!got) {
      regressions.push({ scenario, reason: 'no result through the candidate' });
      continue;
    }
    if (!got.ok) {
      regressions.push({
        scenario,
        reason: `passed directly, fails through the candidate: ${got.error ?? `${got.passed} passed, ${got.failed} failed`}`,
      });
      continue;
    }
    const successes = (r: ScenarioResult): Map<string, number> => {
      const m = new Map<string, number>();
      for (const c of r.checks) if (c.status === 'SUCCESS') m.set(c.id, (m.get(c.id) ?? 0) + 1);
      return m;
    };
    const want = successes(base);
    const have = successes(got);
    for (const [id, n] of want) {
      if ((have.get(id) ?? 0) < n)
        regressions.push({ scenario, reason: `check ${id} succeeded ${n}x directly, ${have.get(id) ?? 0}x through the candidate` });
    }
  }
  return regressions;
}

/** Totals over a run: scenarios ok / not ok, checks passed / failed. */
export function totals(results: Map<string, ScenarioResult>): {
  scenarios: number;
  ok: number;
  notOk: number;
  checksPassed: number;
  checksFailed: number;
} {
  let ok = 0;
  let checksPassed = 0;
  let checksFailed = 0;
  for (const r of results.values()) {
    if (r.ok) ok++;
    checksPassed += r.passed;
    checksFailed += r.failed;
  }
  return { scenarios: results.size, ok, notOk: results.size - ok, checksPassed, checksFailed };
}

/** A plain-text table: scenario | direct | candidate. */
export function parityTable(
  names: string[],
  baseline: Map<string, ScenarioResult>,
  candidate: Map<string, ScenarioResult>,
  candidateLabel: string,
): string {
  const cell = (r: ScenarioResult | undefined): string => (r ? `${r.ok ? 'PASS' : 'FAIL'} ${r.passed}/${r.passed + r.failed}` : '—');
  const width = Math.max(...names.map((n) => n.length), 8);
  const lines = [`${'scenario'.padEnd(width)}  ${'direct'.padEnd(10)}  ${candidateLabel}`];
  for (const n of names) lines.push(`${n.padEnd(width)}  ${cell(baseline.get(n)).padEnd(10)}  ${cell(candidate.get(n))}`);
  return lines.join('\n');
}

/**
 * The scenario servers' content, as JavaScript source shared by the 2025 one (below) and the v2-SDK one
 * (tests/helpers/modern-conformance.ts): its tools' answers, resources, prompts and completion.
 */
export const SCENARIO_CONTENT = `
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = Buffer.from('RIFF$\\u0000\\u0000\\u0000WAVEfmt ').toString('base64');
const EMPTY = { type: 'object', properties: {} };
const CONTENT_TOOLS = ['test_simple_text', 'test_image_content', 'test_audio_content', 'test_embedded_resource',
  'test_multiple_content_types', 'test_tool_with_logging', 'test_tool_with_progress', 'test_error_handling'];
const SCHEMA_TOOL = {
  name: 'json_schema_2020_12_tool', description: 'JSON Schema 2020-12 keywords that must survive',
  inputSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object',
    $defs: { address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
    properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } }, additionalProperties: false } };
const toolsNamed = (names) => names.map((name) => ({ name, description: name, inputSchema: EMPTY }));
const RESOURCE = (uri) => ({ type: 'resource', resource: { uri, mimeType: 'text/plain', text: 'embedded text' } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const text = (t) => ({ type: 'text', text: t });

/** The answer of one of CONTENT_TOOLS or SCHEMA_TOOL (undefined for another name); notify(notification) sends one for the call. */
async function contentTool(name, progressToken, notify) {
  switch (name) {
    case 'test_simple_text': return { content: [text('This is a simple text response for testing.')] };
    case 'test_image_content': return { content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] };
    case 'test_audio_content': return { content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] };
    case 'test_embedded_resource': return { content: [RESOURCE('test://embedded-resource')] };
    case 'test_multiple_content_types':
      return { content: [text('mixed'), { type: 'image', data: PNG, mimeType: 'image/png' }, RESOURCE('test://mixed-content-resource')] };
    case 'test_tool_with_logging':
      for (const step of ['started', 'working', 'done']) {
        await notify({ method: 'notifications/message', params: { level: 'info', logger: 'scenarios', data: 'tool ' + step } });
        await sleep(20);
      }
      return { content: [text('logged')] };
    case 'test_tool_with_progress':
      for (const progress of [0, 50, 100]) {
        if (progressToken !== undefined) await notify({ method: 'notifications/progress', params: { progressToken, progress, total: 100 } });
        await sleep(20);
      }
      return { content: [text('progressed')] };
    case 'test_error_handling': return { content: [text('This tool always fails')], isError: true };
    case 'json_schema_2020_12_tool': return { content: [text('ok')] };
    default: return undefined;
  }
}

const RESOURCES = {
  'test://static-text': { uri: 'test://static-text', name: 'static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
  'test://static-binary': { uri: 'test://static-binary', name: 'static-binary', mimeType: 'image/png', blob: PNG },
  'test://watched-resource': { uri: 'test://watched-resource', name: 'watched-resource', mimeType: 'text/plain', text: 'watched' },
};
const listResources = () => ({ resources: Object.values(RESOURCES).map(({ uri, name, mimeType }) => ({ uri, name, mimeType })) });
const listTemplates = () => ({ resourceTemplates: [{ uriTemplate: 'test://template/{id}/data', name: 'template', mimeType: 'application/json' }] });
/** A resource's contents; notFound(uri) is the error thrown for an unknown one. */
function readResource(uri, notFound) {
  const known = RESOURCES[uri];
  if (known) { const { name, ...content } = known; return { contents: [content] }; }
  const m = uri.match(/^test:\\/\\/template\\/([^/]+)\\/data$/);
  if (m) return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id: m[1] }) }] };
  throw notFound(uri);
}
const listPrompts = () => ({ prompts: [
  { name: 'test_simple_prompt', description: 'simple' },
  { name: 'test_prompt_with_arguments', description: 'with arguments', arguments: [{ name: 'arg1', required: true }, { name: 'arg2', required: true }] },
  { name: 'test_prompt_with_embedded_resource', description: 'embedded resource', arguments: [{ name: 'resourceUri', required: true }] },
  { name: 'test_prompt_with_image', description: 'image' },
] });
function getPrompt(params) {
  const a = params.arguments ?? {};
  const user = (content) => ({ messages: [{ role: 'user', content }] });
  switch (params.name) {
    case 'test_simple_prompt': return user({ type: 'text', text: 'This is a simple prompt for testing.' });
    case 'test_prompt_with_arguments': return user({ type: 'text', text: 'Prompt with arguments: arg1=' + a.arg1 + ', arg2=' + a.arg2 });
    case 'test_prompt_with_embedded_resource': return user(RESOURCE(a.resourceUri ?? 'test://example-resource'));
    case 'test_prompt_with_image': return user({ type: 'image', data: PNG, mimeType: 'image/png' });
    default: throw Object.assign(new Error('Prompt ' + params.name + ' not found'), { code: -32602 });
  }
}
const COMPLETION = { completion: { values: ['paris', 'park', 'party'], total: 3, hasMore: false } };
`;

/**
 * Source of a small MCP server written for this test (plain ESM, the SDK's low-level `Server`) that
 * has the tools, resources and prompts the conformance scenarios call by name (`test_image_content`,
 * `test://static-text`, `test_simple_prompt`, …), so that sampling, elicitation, progress, logging,
 * resource reads, prompts and completion are exercised. `node FILE stdio` serves stdio; `node FILE
 * http PORT` serves Streamable HTTP at /mcp (one Server per session). Written from what the scenarios
 * check (node_modules/@modelcontextprotocol/conformance/dist), not a copy of the conformance
 * project's own reference server.
 */
function scenarioServerSource(): string {
  const sdk = (p: string): string => pathToFileURL(join(root, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm', p)).href;
  return `
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from ${JSON.stringify(sdk('server/index.js'))};
import { StdioServerTransport } from ${JSON.stringify(sdk('server/stdio.js'))};
import { StreamableHTTPServerTransport } from ${JSON.stringify(sdk('server/streamableHttp.js'))};
import {
  CallToolRequestSchema, CompleteRequestSchema, GetPromptRequestSchema, ListPromptsRequestSchema,
  ListResourceTemplatesRequestSchema, ListResourcesRequestSchema, ListToolsRequestSchema,
  ReadResourceRequestSchema, SetLevelRequestSchema, SubscribeRequestSchema, UnsubscribeRequestSchema,
  CreateMessageResultSchema, ElicitResultSchema,
} from ${JSON.stringify(sdk('types.js'))};

${SCENARIO_CONTENT}
const TOOLS = toolsNamed([...CONTENT_TOOLS, 'test_sampling', 'test_elicitation', 'test_elicitation_sep1034_defaults'])
  .concat([{ name: 'test_elicitation_sep1330_enums', description: 'enum schemas', inputSchema: EMPTY }, SCHEMA_TOOL]);

function makeServer() {
  const server = new Server({ name: 'ratri-conformance-scenarios', version: '1.0.0' }, {
    capabilities: { tools: {}, logging: {}, completions: {}, prompts: {}, resources: { subscribe: true } },
  });
  server.setRequestHandler(SetLevelRequestSchema, async () => ({}));
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const name = request.params.name;
    const answer = await contentTool(name, request.params._meta?.progressToken, (n) => extra.sendNotification(n));
    if (answer) return answer;
    switch (name) {
      case 'test_sampling': {
        const answer = await extra.sendRequest({ method: 'sampling/createMessage', params: {
          messages: [{ role: 'user', content: text(String(request.params.arguments?.prompt ?? 'hello')) }], maxTokens: 100 } }, CreateMessageResultSchema);
        return { content: [text('LLM said: ' + (answer.content?.text ?? ''))] };
      }
      case 'test_elicitation': {
        const answer = await extra.sendRequest({ method: 'elicitation/create', params: {
          message: String(request.params.arguments?.message ?? 'Please provide your information'),
          requestedSchema: { type: 'object', properties: { username: { type: 'string' }, email: { type: 'string' } }, required: ['username'] } } }, ElicitResultSchema);
        return { content: [text('elicitation ' + answer.action + ' ' + JSON.stringify(answer.content ?? {}))] };
      }
      case 'test_elicitation_sep1034_defaults': {
        const answer = await extra.sendRequest({ method: 'elicitation/create', params: {
          message: 'Defaults', requestedSchema: { type: 'object', properties: {
            name: { type: 'string', default: 'John Doe' },
            age: { type: 'integer', default: 30 },
            score: { type: 'number', default: 95.5 },
            status: { type: 'string', enum: ['active', 'inactive', 'pending'], default: 'active' },
            verified: { type: 'boolean', default: true },
          } } } }, ElicitResultSchema);
        return { content: [text('elicitation ' + answer.action)] };
      }
      case 'test_elicitation_sep1330_enums': {
        const answer = await extra.sendRequest({ method: 'elicitation/create', params: {
          message: 'Enums', requestedSchema: { type: 'object', properties: {
            untitledSingle: { type: 'string', enum: ['a', 'b', 'c'] },
            titledSingle: { type: 'string', oneOf: [{ const: 'a', title: 'A' }, { const: 'b', title: 'B' }] },
            legacyEnum: { type: 'string', enum: ['a', 'b'], enumNames: ['A', 'B'] },
            untitledMulti: { type: 'array', items: { type: 'string', enum: ['a', 'b', 'c'] } },
            titledMulti: { type: 'array', items: { anyOf: [{ const: 'a', title: 'A' }, { const: 'b', title: 'B' }] } },
          } } } }, ElicitResultSchema);
        return { content: [text('elicitation ' + answer.action)] };
      }
      default: return { content: [text('Unknown tool ' + name)], isError: true };
    }
  });
  server.setRequestHandler(ListResourcesRequestSchema, async () => listResources());
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => listTemplates());
  server.setRequestHandler(ReadResourceRequestSchema, async (request) =>
    readResource(request.params.uri, (uri) => Object.assign(new Error('Resource ' + uri + ' not found'), { code: -32002 })));
  server.setRequestHandler(SubscribeRequestSchema, async () => ({}));
  server.setRequestHandler(UnsubscribeRequestSchema, async () => ({}));
  server.setRequestHandler(ListPromptsRequestSchema, async () => listPrompts());
  server.setRequestHandler(GetPromptRequestSchema, async (request) => getPrompt(request.params));
  server.setRequestHandler(CompleteRequestSchema, async () => COMPLETION);
  return server;
}

if (process.argv[2] === 'http') {
  const sessions = new Map();
  const http = createServer(async (req, res) => {
    if (!req.url.startsWith('/mcp')) { res.writeHead(404).end(); return; }
    const id = req.headers['mcp-session-id'];
    let transport = id ? sessions.get(id) : undefined;
    if (!transport) {
      if (id || req.method !== 'POST') { res.writeHead(id ? 404 : 400).end(); return; }
      transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => sessions.set(sid, transport) });
      transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
      await makeServer().connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  http.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => console.error('scenario server listening on port ' + http.address().port));
} else {
  await makeServer().connect(new StdioServerTransport());
}
`;
}

/** Writes a scenario server (by default the one above) into `dir` and returns its path. */
export function writeScenarioServer(dir: string, source = scenarioServerSource(), name = 'scenario-server.mjs'): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

/** A scenario server serving Streamable HTTP itself (`node FILE http 0`, which prints its port). */
export async function startScenarioServerHttp(file: string): Promise<Target> {
  const child = spawn(process.execPath, [file, 'http', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = collect(child);
  child.stdout?.resume();
  const match = await waitForOutput(child, /listening on port (\d+)/, `scenario server ${file}`);
  return { url: `http://127.0.0.1:${match[1]}/mcp`, pid: child.pid!, stderr, stop: () => stopChild(child) };
}
