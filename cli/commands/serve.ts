/** `ratri serve`: the embedded control plane behind the HTTP API (docs/api.md), for proxies on other machines. */
import { dirname, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { ConfigError, readConfigFile } from '../../lib/config/load-config.js';
import { defaultStorePath, resolveConfigPath } from '../../lib/config/paths.js';
import type { GuardrailsConfig, OtlpConfig, SecretsConfig } from '../../lib/config/types.js';
import { createApiServer } from '../../lib/control/api-server.js';
import type { ApiTelemetry } from '../../lib/control/api-telemetry.js';
import { KeysFileError } from '../../lib/control/keys-file.js';
import { servedKeyRing } from '../../lib/control/keys-watch.js';
import { LocalControlPlane } from '../../lib/control/local-control-plane.js';
import { PgControlPlane } from '../../lib/control/pg-control-plane.js';
import { shownUrl } from '../../lib/control/pg-store.js';
import type { ServedPlane } from '../../lib/control/served-plane.js';
import { StoreError } from '../../lib/control/store.js';
import { isLoopback } from '../../lib/net/loopback.js';
import { stderrLine } from '../../lib/report/visible-text.js';
import { serveKeysCommand } from './serve-keys.js';

interface ServeArgs {
  config?: string;
  store?: string;
  database?: string;
  host: string;
  port: number;
  'key-env': string;
  'approver-key-env': string;
  keys?: string;
}

function say(message: string): void {
  process.stderr.write(stderrLine('ratri serve', message));
}

/** How long stopping waits for the spans still queued to be exported (docs/opentelemetry.md#ratri-serve). */
const SPAN_FLUSH_MS = 4_000;

/** The OpenTelemetry export of `telemetry.otlp`; its SDK is loaded only then. */
async function openTelemetry(otlp: OtlpConfig | undefined, plane: ServedPlane): Promise<ApiTelemetry | undefined> {
  if (!otlp) return undefined;
  const { openApiTelemetry } = await import('../../lib/control/api-telemetry.js');
  return openApiTelemetry(otlp, plane, say);
}

/** Exports the spans still queued (within SPAN_FLUSH_MS) and says how many were not. */
async function closeTelemetry(telemetry: ApiTelemetry | undefined): Promise<void> {
  const notExported = (await telemetry?.close(SPAN_FLUSH_MS)) ?? 0;
  if (notExported > 0) say(`telemetry.otlp: ${notExported} span(s) not exported (collector unreachable or queue full)`);
}

function fail(message: string, code: number): never {
  say(message);
  process.exit(code);
}

/** The proxy key and the approver key from the environment, after checking that they make sense with --host and --keys. */
function readKeys(args: ServeArgs): { key?: string; approverKey?: string } {
  const keyEnv = args['key-env'];
  const approverEnv = args['approver-key-env'];
  const key = process.env[keyEnv] || undefined;
  const approverKey = process.env[approverEnv] || undefined;
  if (!key && !approverKey && !args.keys && !isLoopback(args.host)) {
    fail(
      `refusing to listen on ${args.host} without an API key: anyone who can reach it could approve calls.\n` +
        `  fix: export ${keyEnv}=$(openssl rand -hex 32) and give proxies the same key, or give a keys file with --keys, or listen on 127.0.0.1`,
      2,
    );
  }
  if (key && key === approverKey) {
    fail(
      `${keyEnv} and ${approverEnv} hold the same key, so every proxy could resolve approvals.\n  fix: give ${approverEnv} a key of its own: export ${approverEnv}=$(openssl rand -hex 32)`,
      2,
    );
  }
  if (args.keys) return { key, approverKey };
  if (!key && !approverKey) {
    say(`warning: ${keyEnv} is not set, so any process on this machine can use the API (set it to require a key)`);
  } else if (!approverKey) {
    say(
      `no ${approverEnv}: approvals cannot be resolved over the API, only with "ratri approvals --store" on this machine (set ${approverEnv} to allow it)`,
    );
  }
  return { key, approverKey };
}

/** The `ratri serve` command module. */
export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Serve the control plane (rules, approvals, events) over HTTP for remote proxies',
  // global: false, so that `ratri serve keys …` takes none of these.
  builder: (y) =>
    y
      .option('config', {
        global: false,
        alias: 'c',
        type: 'string',
        describe: 'A ratri.mcp.json whose top-level guardrails, redactKeys and store to use',
      })
      .option('store', {
        type: 'string',
        global: false,
        describe: 'The SQLite store (default: the config\'s "store", else $RATRI_HOME/ratri.db)',
      })
      .option('database', {
        global: false,
        type: 'string',
        describe: 'A PostgreSQL database (postgres://USER@HOST:PORT/DB, the password in PGPASSWORD) instead of the SQLite store',
        conflicts: 'store',
      })
      .option('host', { type: 'string', global: false, default: '127.0.0.1', describe: 'Address to listen on' })
      .option('port', { type: 'number', global: false, default: 7466, describe: 'Port to listen on (0 picks a free one)' })
      .option('key-env', {
        global: false,
        type: 'string',
        default: 'RATRI_API_KEY',
        describe: 'Environment variable holding the proxy key (evaluate, events, tools, reading approvals)',
      })
      .option('approver-key-env', {
        global: false,
        type: 'string',
        default: 'RATRI_APPROVER_KEY',
        describe: 'Environment variable holding the approver key (all of the above, and resolving approvals)',
      })
      .option('keys', {
        global: false,
        type: 'string',
        describe:
          'A keys file of per-agent proxy keys and approver keys (hashes only; "ratri serve keys add" writes it), re-read when it changes',
      })
      .command(serveKeysCommand)
      .example(
        'RATRI_API_KEY=$(openssl rand -hex 32) $0 serve --config ratri.mcp.json',
        'Serve the rules of ratri.mcp.json on 127.0.0.1:7466',
      )
      .example('$0 serve --host 0.0.0.0 --port 8080 --store /var/lib/ratri/ratri.db', 'Serve a team (needs RATRI_API_KEY)')
      .example('$0 serve --host 0.0.0.0 --keys keys.json', 'Serve a team with a key per agent ("ratri serve keys add --keys keys.json …")')
      .epilog(
        'Proxies use it with "api": { "url": "http://HOST:PORT" } in their config and the proxy key in RATRI_API_KEY. ' +
          'Approvers (ratri approvals approve|reject --config) need the approver key in RATRI_APPROVER_KEY; a proxy key cannot resolve approvals.',
      ),
  handler: async (args) => {
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535)
      fail(`--port must be a whole number from 0 to 65535, not ${args.port}`, 2);
    let guardrails: GuardrailsConfig = { rules: [] };
    let redactKeys: string[] = [];
    let secrets: SecretsConfig = {};
    let store = args.store ? resolve(args.store) : undefined;
    let otlp: OtlpConfig | undefined;
    if (args.config) {
      try {
        const file = readConfigFile(args.config, { controlPlaneOnly: true });
        guardrails = file.guardrails ?? guardrails;
        redactKeys = file.redactKeys ?? [];
        secrets = file.secrets ?? {};
        otlp = file.telemetry?.otlp;
        if (!store && file.store) store = resolveConfigPath(dirname(resolve(args.config)), file.store);
        if (!args.database && !args.store && file.database) args.database = file.database;
        if (!args.keys && file.keys) args.keys = resolveConfigPath(dirname(resolve(args.config)), file.keys);
      } catch (err) {
        if (err instanceof ConfigError) fail(err.message, 2);
        throw err;
      }
    }
    store ??= defaultStorePath();

    const { key, approverKey } = readKeys(args);
    let keys: ReturnType<typeof servedKeyRing>;
    try {
      const env = { key, keyEnv: args['key-env'], approverKey, approverKeyEnv: args['approver-key-env'] };
      keys = servedKeyRing(env, args.keys && resolve(args.keys), say);
    } catch (err) {
      if (err instanceof KeysFileError) fail(err.message, 2);
      throw err;
    }
    if (args.keys && keys.ring.fileKeys === 0)
      say(`the keys file ${args.keys} has no keys yet: requests are refused until "ratri serve keys add" adds one`);

    let plane: ServedPlane;
    const secretChoice = { redact: secrets.redact ?? true, disabledRules: secrets.disabledRules ?? [] };
    try {
      plane = args.database
        ? await PgControlPlane.open(args.database, guardrails, redactKeys, secretChoice)
        : LocalControlPlane.open(store, guardrails, redactKeys, secretChoice);
    } catch (err) {
      if (err instanceof StoreError) fail(err.message, 1);
      throw err;
    }
    const telemetry = await openTelemetry(otlp, plane);
    const server = createApiServer({ plane, keys: keys.ring, redactKeys, onAnswered: telemetry && ((a) => telemetry.observe(a)) });
    server.on('error', (err: NodeJS.ErrnoException) => {
      void plane.close();
      if (err.code === 'EADDRINUSE')
        fail(`port ${args.port} on ${args.host} is already in use; stop what uses it or pick another --port`, 1);
      if (err.code === 'EACCES') fail(`not allowed to listen on ${args.host}:${args.port}; pick a port above 1023`, 1);
      if (err.code === 'EADDRNOTAVAIL') fail(`${args.host} is not an address of this machine; check --host`, 1);
      fail(`cannot listen on ${args.host}:${args.port}: ${err.message}`, 1);
    });
    server.listen(args.port, args.host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : args.port;
      const host = args.host.includes(':') && !args.host.startsWith('[') ? `[${args.host}]` : args.host;
      const where = args.database ? `database ${shownUrl(args.database)}` : `store ${store}`;
      process.stdout.write(`ratri serve: listening on http://${host}:${port} (${where})\n`);
    });

    const stop = (): void => {
      keys.close();
      server.close();
      server.closeAllConnections(); // keep-alive sockets of idle proxies would hold close() open
      void closeTelemetry(telemetry)
        .then(() => plane.close())
        .then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
};
