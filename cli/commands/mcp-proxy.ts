/**
 * `ratri mcp proxy --config FILE`: the stdio proxy a host launches in place of the upstream server;
 * with `--transport http|sse` an HTTP server instead, one upstream per client session.
 */
import type { CommandModule } from 'yargs';
import { chooseProxyConfig, commandLineNotice } from '../../lib/config/command-line-config.js';
import { ConfigError } from '../../lib/config/load-config.js';
import { startupSummary } from '../../lib/config/startup-summary.js';
import { DEFAULTS, type ProxyConfig } from '../../lib/config/types.js';
import type { ControlPlane } from '../../lib/control/control-plane.js';
import { isLoopback } from '../../lib/net/loopback.js';
import type { SessionRecorder } from '../../lib/replay/session-recorder.js';
import { stderrLine } from '../../lib/report/visible-text.js';
import { signalExitCode } from '../../lib/session/exit-code.js';
import type { ProxySession as ProxySessionType } from '../../lib/session/proxy-session.js';
import { StopClock } from '../../lib/session/stop-clock.js';
import { startConfiguredUpstream } from '../../lib/session/upstream-env.js';
import { SpawnError, type UpstreamProcess } from '../../lib/session/upstream-process.js';
import type { HttpFront as HttpFrontType } from '../../lib/transport/http-front.js';
import { type ProxyArgs, proxyDefaults } from './mcp-proxy-args.js';

/** Without an explicit maxFrameBytes, HTTP bodies are held to 4 MiB (a whole body sits in memory). */
const DEFAULT_HTTP_BODY_BYTES = 4 * 1024 * 1024;
/** The body limit an HTTP front applies, and the words that name the setting it comes from. */
function bodyLimit(config: ProxyConfig): { maxBytes: number; setting: string } {
  if (config.maxFrameBytes !== DEFAULTS.maxFrameBytes) return { maxBytes: config.maxFrameBytes, setting: 'maxFrameBytes in the config' };
  return {
    maxBytes: DEFAULT_HTTP_BODY_BYTES,
    setting: 'the HTTP body limit while the config does not set maxFrameBytes; set maxFrameBytes to change it',
  };
}

/** `--host` on another machine's reach needs a token: anyone who can connect could use the upstream's tools. */
function checkExposure(args: ProxyArgs, fail: (message: string, code: number) => never): void {
  if (isLoopback(args.host) || args['auth-token-env']) return;
  fail(
    `refusing to serve on ${args.host} without --auth-token-env: anyone who can reach it could call the upstream's tools.\n` +
      '  fix: export RATRI_HTTP_TOKEN=$(openssl rand -hex 32) and add --auth-token-env RATRI_HTTP_TOKEN, or keep --host 127.0.0.1',
    2,
  );
}

/** Parses `--transport stdio|http|sse[,…]`; stdio cannot be combined with the HTTP ones. */
function parseTransports(value: string): { stdio: boolean; http: boolean; sse: boolean } | string {
  const names = value
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((n) => !['stdio', 'http', 'sse'].includes(n));
  if (unknown.length > 0) return `--transport: unknown transport "${unknown.join(', ')}" (choose stdio, http, sse, or http,sse)`;
  const chosen = { stdio: names.includes('stdio') || names.length === 0, http: names.includes('http'), sse: names.includes('sse') };
  if (chosen.stdio && (chosen.http || chosen.sse)) return '--transport: stdio cannot be combined with http or sse';
  return chosen;
}

/** `--transport http|sse`: serves until SIGINT/SIGTERM, then stops every session's upstream. */
async function serveHttp(args: ProxyArgs, config: ProxyConfig, transports: { http: boolean; sse: boolean }): Promise<void> {
  const fail = (message: string, code: number): never => {
    log(message);
    process.exit(code);
  };
  if (args.record) fail('--record works with --transport stdio only', 2);
  if (args['record-unredacted']) fail('--record-unredacted goes with --record FILE, which works with --transport stdio only', 2);
  checkExposure(args, fail);
  let authToken: string | undefined;
  if (args['auth-token-env']) {
    authToken = process.env[args['auth-token-env']];
    if (!authToken) fail(`--auth-token-env ${args['auth-token-env']}: that environment variable is not set or empty`, 2);
    // The token is ratri's credential: no upstream it starts may read it (docs/config.md).
    config = { ...config, secretEnv: [...config.secretEnv, args['auth-token-env']] };
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) fail(`--port: ${args.port} is not a port (0-65535)`, 2);
  if (!(args['session-idle-ms'] > 0)) fail('--session-idle-ms must be a positive number of milliseconds', 2);
  if (!(Number.isInteger(args['max-sessions']) && args['max-sessions'] >= 1)) fail('--max-sessions must be an integer of at least 1', 2);
  const timeoutMs = args['request-timeout-ms'];
  if (!(timeoutMs > 0)) fail('--request-timeout-ms must be a positive number of milliseconds', 2);
  // One control plane for every session, opened before listening: a store that cannot open stops us now.
  // Loaded here, as the HTTP front is: a stdio proxy opens its store after spawning the upstream (docs/performance.md#start-up).
  const { openControlPlane } = await import('../../lib/control/open-control-plane.js');
  let controlPlane: ControlPlane;
  try {
    controlPlane = openControlPlane(config);
  } catch (err) {
    return fail(err instanceof ConfigError ? err.message : `store: ${(err as Error).message}`, 2);
  }
  // Loaded here: a stdio proxy, what hosts start, never needs the HTTP front (docs/performance.md#start-up).
  const { HttpFront, ListenError } = await import('../../lib/transport/http-front.js');
  let front: HttpFrontType;
  try {
    front = await HttpFront.start({
      config,
      controlPlane,
      streamableHttp: transports.http,
      legacySse: transports.sse,
      host: args.host,
      port: args.port,
      allowedOrigins: args['allowed-origin'] ?? [],
      authToken,
      sessionIdleMs: args['session-idle-ms'],
      maxSessions: args['max-sessions'],
      body: { ...bodyLimit(config), timeoutMs },
      headersTimeoutMs: timeoutMs,
      log,
    });
  } catch (err) {
    await controlPlane.close(2000);
    if (err instanceof ListenError) fail(err.message, 1);
    throw err;
  }
  const parts = [
    transports.http ? `Streamable HTTP at ${front.baseUrl}/mcp` : '',
    transports.sse ? `${transports.http ? 'and ' : ''}legacy SSE at ${front.baseUrl}/sse` : '',
  ].filter(Boolean);
  log(`serving MCP over ${parts.join(' ')}`);
  log(`a session with no request, stream or unanswered request for ${args['session-idle-ms'] / 1000} s is ended (--session-idle-ms)`);
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // A second signal reaches each session's stop again, which kills its upstream at once.
      const first = !stopping;
      stopping = true;
      if (!first) return void front.stop(signal);
      void front
        .stop(signal)
        .then(() => controlPlane.close(2000))
        .catch((err: Error) => log(`closing the control plane: ${err.message}`))
        .then(() => process.exit(signalExitCode(signal)));
    });
  }
}

/** `--record FILE`: redacted unless `--record-unredacted`, which says on stderr what the file then holds. */
async function startRecording(file: string, config: ProxyConfig, unredacted: boolean): Promise<SessionRecorder> {
  const [{ SessionRecorder }, { proxyConfigAsFile }, { secretFinder }] = await Promise.all([
    import('../../lib/replay/session-recorder.js'),
    import('../../lib/replay/replay-config.js'),
    import('../../lib/secrets/find-secrets.js'),
  ]);
  if (unredacted && (config.redactKeys.length > 0 || config.secrets.redact)) {
    const what = [
      ...(config.redactKeys.length > 0 ? [`the values of ${config.redactKeys.join(', ')}`] : []),
      ...(config.secrets.redact ? ['secret values'] : []),
    ].join(' and ');
    log(`--record-unredacted: ${file} keeps every frame as it crossed the proxy, ${what} included (the file is 0600)`);
  }
  const findSecrets = !unredacted && config.secrets.redact ? secretFinder(config.secrets) : undefined;
  return new SessionRecorder(file, proxyConfigAsFile(config), unredacted ? [] : config.redactKeys, findSecrets);
}

function log(message: string): void {
  process.stderr.write(stderrLine('ratri', message));
}

export const proxyCommand: CommandModule<object, ProxyArgs> = {
  command: 'proxy',
  describe: 'Run the stdio proxy in front of the upstream MCP server named in the config',
  builder: (y) =>
    y
      .parserConfiguration({ 'populate--': true })
      .option('config', { alias: 'c', type: 'string', describe: 'Path to ratri.mcp.json (or no config: -- COMMAND ARGS…)' })
      .option('server', { type: 'string', describe: 'Which entry of "servers" to run' })
      .option('mode', { type: 'string', choices: ['monitor', 'enforce'] as const, describe: 'Override "mode"' })
      .option('environment', { type: 'string', describe: 'Override "environment"' })
      .option('record', {
        type: 'string',
        describe: 'Record the session to FILE in the golden format (see ratri replay), the values of redactKeys redacted',
      })
      .option('record-unredacted', {
        type: 'boolean',
        default: proxyDefaults['record-unredacted'],
        describe: 'With --record: keep every frame byte for byte, secrets included',
      })
      .option('transport', {
        type: 'string',
        default: proxyDefaults.transport,
        describe: 'stdio, or serve over HTTP: http (Streamable HTTP), sse (legacy HTTP+SSE), or http,sse',
      })
      .option('port', { type: 'number', default: proxyDefaults.port, describe: 'HTTP port (0 picks a free one)' })
      .option('host', { type: 'string', default: proxyDefaults.host, describe: 'HTTP address to bind' })
      .option('allowed-origin', { type: 'string', array: true, describe: 'Browser Origin allowed besides localhost (repeatable)' })
      .option('auth-token-env', {
        type: 'string',
        describe: 'Require "Authorization: Bearer TOKEN", TOKEN read from this environment variable',
      })
      .option('session-idle-ms', {
        type: 'number',
        default: proxyDefaults['session-idle-ms'],
        describe: 'End an HTTP session with no request, no open stream and no unanswered request for this long',
      })
      .option('request-timeout-ms', {
        type: 'number',
        default: proxyDefaults['request-timeout-ms'],
        describe: "Most time a client may take to send a request's headers, and then its body (408 beyond)",
      })
      .option('max-sessions', {
        type: 'number',
        default: proxyDefaults['max-sessions'],
        describe: 'Most HTTP sessions (each with its own upstream) at once',
      })
      .example('$0 mcp proxy --config ratri.mcp.json', 'Proxy the upstream of ratri.mcp.json on stdin/stdout')
      .example('$0 mcp proxy --config ratri.mcp.json --server github --mode enforce', 'Run one server of a multi-server config, enforcing')
      .example(
        '$0 mcp proxy -- npx -y @modelcontextprotocol/server-everything',
        'No config: monitor mode, agent "local", the default store',
      )
      .example('$0 mcp proxy -c ratri.mcp.json --record session.golden.jsonl', 'Capture a session for ratri replay')
      .example(
        '$0 mcp proxy -c ratri.mcp.json --transport http,sse --port 3100',
        'Serve MCP over HTTP at http://127.0.0.1:3100/mcp (and /sse)',
      ),
  handler: runProxy,
};

/** The command itself, from yargs' arguments or from the plain command line a host runs (cli/plain-proxy-args.ts). */
export async function runProxy(args: ProxyArgs): Promise<void> {
  let config;
  try {
    config = chooseProxyConfig(args.config, args['--']?.map(String), {
      server: args.server,
      mode: args.mode,
      environment: args.environment,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      log(err.message);
      process.exit(2);
    }
    throw err;
  }
  const transports = parseTransports(args.transport);
  if (typeof transports === 'string') {
    log(transports);
    process.exit(2);
  }
  const summary = args.config === undefined ? commandLineNotice(config) : startupSummary(config);
  if (!transports.stdio) {
    log(summary);
    return serveHttp(args, config, transports);
  }
  if (args['record-unredacted'] && !args.record) {
    log('--record-unredacted goes with --record FILE: add --record FILE, or leave --record-unredacted out');
    process.exit(2);
  }
  // With --record the line comes first still: the recording says what its file keeps.
  if (args.record) log(summary);
  const recorder = args.record ? await startRecording(args.record, config, args['record-unredacted']) : undefined;
  // The upstream starts before the session's modules are loaded, so that its start overlaps with
  // theirs (docs/performance.md#start-up); a SpawnError comes out of session.run() below. The signal
  // handlers come first: the upstream runs in its own process group, so only ratri can stop it.
  let upstream: Promise<UpstreamProcess> | undefined;
  let session: ProxySessionType | undefined;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (session?.stop(signal)) return;
      // No session yet, or it has no upstream yet: stop the one being started as a session would, then exit.
      void (upstream ?? Promise.reject())
        .then(
          (u) => u.stop(new StopClock().upstreamTimings()),
          () => undefined,
        )
        .then(() => process.exit(signalExitCode(signal)));
    });
  }
  upstream = startConfiguredUpstream(config);
  upstream.catch(() => undefined);
  // Said once the upstream is on its way: opening stderr (and stdin, for isTTY) is ~1 ms the spawn need not wait for.
  if (!args.record) log(summary);
  if (process.stdin.isTTY) {
    log(
      `proxying "${config.upstream.command}" (${config.mode} mode); reading MCP frames (one JSON-RPC message per line) from this terminal.`,
    );
    log('an MCP host normally launches this command itself; see README.md for the host config. Ctrl-C stops.');
  }
  const { ProxySession } = await import('../../lib/session/proxy-session.js');
  session = new ProxySession({ config, hostIn: process.stdin, hostOut: process.stdout, log, recorder, upstream });
  try {
    process.exitCode = await session.run();
  } catch (err) {
    if (err instanceof ConfigError) {
      log(err.message);
      process.exit(2);
    }
    if (err instanceof SpawnError) {
      log(`${err.message}\n  fix: check "upstream.command" in ${config.source}`);
      process.exit(err.code === 'EACCES' ? 126 : 127);
    }
    throw err;
  }
  process.exit(process.exitCode);
}
