// `ratri mcp proxy` loads only what a proxy needs (docs/performance.md#start-up): a host starts it at
// every launch, so the dashboard, doctor, demo, init and serve code, and the HTTP client of the
// remote control plane, stay unloaded. Which ES modules the real CLI loads is logged by a loader hook;
// a bundle it loads (dist/cli/*.bundle.js, scripts/bundle-proxy.mjs) counts with every module its
// banner says it holds.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, cliPath, fixtureServer, root, writeConfig } from '../helpers/cli.js';

const { dir } = cleanUpAfterEach('ratri-startup-modules-');
const hook = join(root, 'tests', 'helpers', 'module-log-hook.mjs');

const BUNDLE = 'dist/cli/pre-spawn.bundle.js';
const SESSION_BUNDLE = 'dist/cli/session.bundle.js';

/** A proxy in front of a fixture server, nothing else configured. */
const PROXY_CONFIG = { agentKey: 'modules', upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] } };
const proxyConfig = (d: string): string => writeConfig(d, PROXY_CONFIG);

/** The modules a bundle holds, from the `// module: dist/…` lines of its banner. */
function bundled(file: string): string[] {
  return [...readFileSync(join(root, file), 'utf8').matchAll(/^\/\/ module: (\S+)$/gm)].map((m) => m[1]!);
}

/** The files loaded, in order, each bundle followed by the modules it holds. */
function withBundled(files: string[]): string[] {
  return files.flatMap((f) => (f.endsWith('.bundle.js') ? [f, ...bundled(f)] : [f]));
}

/** Runs `ratri ARGS` to the end of one initialize round trip and returns the files it loaded, in order, relative to the package. */
function loadedBy(args: string[], logFile: string, home: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', hook, cliPath, ...args], {
      env: { ...process.env, RATRI_HOME: home, RATRI_TEST_MODULE_LOG: logFile },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.stdout.on('data', (c: Buffer) => {
      if (c.toString('utf8').includes('"id":1')) child.stdin.end();
    });
    child.stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n`,
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`ratri exited with ${code}: ${stderr}`));
      const urls = readFileSync(logFile, 'utf8').trim().split('\n');
      resolve(urls.filter((u) => u.startsWith('file:')).map((u) => relative(root, new URL(u).pathname)));
    });
  });
}

describe('what `ratri mcp proxy` loads', () => {
  it('loads the proxy, and none of the dashboard, doctor, demo, init, serve or remote-API client code', async () => {
    const d = dir();
    const config = proxyConfig(d);
    const loaded = withBundled(await loadedBy(['mcp', 'proxy', '--config', config], join(d, 'modules.log'), d));
    // The hook saw the proxy itself, and what the bundle holds: the list is real.
    expect(loaded).toContain('dist/lib/session/proxy-session.js');
    expect(loaded).toContain('dist/lib/control/store.js');
    expect(loaded).toContain(BUNDLE);
    expect(loaded).toContain('dist/lib/config/load-config.js');
    const unwanted = loaded.filter(
      (f) =>
        /^dist\/lib\/(dashboard|doctor|demo|init)\//.test(f) ||
        /^dist\/cli\/commands\/(?!mcp\.js|mcp-proxy\.js|mcp-proxy-args\.js)/.test(f) ||
        f === 'dist/lib/control/api-server.js' ||
        f.startsWith('node_modules/got/') ||
        // secretlint loads on the first text its prefilter lets through (lib/secrets/find-secrets.ts)
        f.startsWith('node_modules/@secretlint/') ||
        f.startsWith('node_modules/vscode-jsonrpc/') ||
        // the OpenTelemetry SDK loads only with telemetry.otlp (lib/telemetry/otlp-open.ts)
        f.startsWith('node_modules/@opentelemetry/') ||
        f.startsWith('dist/lib/telemetry/otlp-'),
    );
    expect(unwanted).toEqual([]);
  });

  it('reads its own code before the spawn from one bundle, and the session after it from another', async () => {
    const d = dir();
    const config = proxyConfig(d);
    const loaded = await loadedBy(['mcp', 'proxy', '--config', config], join(d, 'modules.log'), d);
    // mcp-proxy.ts imports the session right after the spawn; what comes before it ran before the spawn.
    const beforeSession = loaded.slice(0, loaded.indexOf('dist/lib/session/proxy-session.js'));
    expect(beforeSession).toEqual([
      'dist/cli/ratri.js',
      BUNDLE,
      'dist/lib/config/config-validator.generated.js',
      // what cli/ratri.ts imports with import(): a file that re-exports the command from the bundle
      'dist/cli/commands/mcp-proxy.js',
    ]);
    expect(bundled(BUNDLE)).toEqual(expect.arrayContaining(['dist/cli/commands/mcp-proxy.js', 'dist/lib/session/upstream-process.js']));
    // The session's file re-exports it from the session bundle, loaded right after it.
    expect(loaded[beforeSession.length + 1]).toBe(SESSION_BUNDLE);
    expect(bundled(SESSION_BUNDLE)).toEqual(
      expect.arrayContaining(['dist/lib/session/proxy-session.js', 'dist/lib/relay/interceptor.js', 'dist/lib/control/store.js']),
    );
  });

  it('loads no CommonJS module before it spawns the upstream', async () => {
    const d = dir();
    const config = proxyConfig(d);
    const log = join(d, 'modules.log');
    await loadedBy(['mcp', 'proxy', '--config', config], log, d);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const spawned = lines.findIndex((l) => l.startsWith('spawn: '));
    const required = (part: string[]) => part.filter((l) => l.startsWith('cjs: ') && !isBuiltin(l.slice('cjs: '.length)));
    // The hook sees CommonJS modules: better-sqlite3 is one, required by the session after the spawn.
    expect(spawned).toBeGreaterThan(0);
    expect(required(lines.slice(spawned)).some((l) => l.includes('better-sqlite3'))).toBe(true);
    // Node's CommonJS loader costs 2–3 ms the first time; the config validator inlines ajv's one helper instead.
    expect(required(lines.slice(0, spawned))).toEqual([]);
  });

  it('reads the plain command line a host runs without loading yargs, and any other with it', async () => {
    const d = dir();
    const config = proxyConfig(d);
    const fromYargs = (files: string[]) => files.filter((f) => f.startsWith('node_modules/yargs/') || f.startsWith('node_modules/cliui/'));
    const plain = await loadedBy(['mcp', 'proxy', '--config', config, '--mode', 'enforce'], join(d, 'plain.log'), d);
    expect(plain).toContain('dist/lib/session/proxy-session.js');
    expect(fromYargs(plain)).toEqual([]);
    // A flag the plain reading leaves alone: yargs reads the line (and the proxy runs all the same).
    const other = await loadedBy(['mcp', 'proxy', '--config', config, '--host', '127.0.0.1'], join(d, 'other.log'), d);
    expect(other).toContain('dist/lib/session/proxy-session.js');
    expect(fromYargs(other).length).toBeGreaterThan(0);
  });

  it('loads the OpenTelemetry SDK when telemetry.otlp is set (so the check above can see it)', async () => {
    const d = dir();
    const config = writeConfig(d, {
      ...PROXY_CONFIG,
      // Nothing listens there: nothing is exported in this test, and nothing needs to be.
      telemetry: { otlp: { endpoint: 'http://127.0.0.1:9', protocol: 'http/json' } },
    });
    const loaded = await loadedBy(['mcp', 'proxy', '--config', config], join(d, 'modules.log'), d);
    expect(loaded).toContain('dist/lib/telemetry/otlp-sink.js');
    expect(loaded.some((f) => f.startsWith('node_modules/@opentelemetry/sdk-trace-base/'))).toBe(true);
    expect(loaded.some((f) => f.startsWith('node_modules/@opentelemetry/exporter-trace-otlp-http/'))).toBe(true);
  });
});
