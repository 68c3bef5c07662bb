/**
 * The doctor's checks that need no MCP session: the config, starting the upstream, the control
 * plane, and the host snippet. Each returns a CheckResult (check-result.ts) and never throws for a
 * problem of the setup: a problem is a ✗ with a fix, not a crash. The MCP checks are in
 * mcp-checks.ts, the rule decisions in rules-check.ts.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, readConfigFile, resolveProxyConfig } from '../config/load-config.js';
import { resolveConfigPath } from '../config/paths.js';
import { apiKeyEnv, type ConfigFile, DEFAULTS, type GuardrailsConfig, type ProxyConfig, SDK_REQUEST_TIMEOUT_MS } from '../config/types.js';
import { shownUrl } from '../control/http-control-plane.js';
import { LocalControlPlane } from '../control/local-control-plane.js';
import { ratriLaunch } from '../node/ratri-launch.js';
import { upstreamEnv } from '../session/upstream-env.js';
import { SpawnError, type UpstreamProcess, upstreamCwd } from '../session/upstream-process.js';
import { type CheckResult, failed, passed, warned } from './check-result.js';
import { locateCommand, startUpstream } from './upstream-child.js';

/** One server the doctor checks: a `servers` entry, or the top-level upstream. */
export interface ServerUnderTest {
  /** The `servers` key; undefined for a top-level `upstream`. */
  entry: string | undefined;
  config: ProxyConfig;
}

/** The label a server's checks carry: its `servers` key, else its serverName. */
export const serverLabel = (s: ServerUnderTest): string => s.entry ?? s.config.serverName;

const CONFIG_FIX = 'correct each field listed below (every field is described in docs/config.md), then run ratri doctor again';

/** A folder the proxy would have to create or write in, and cannot: the reason, else undefined. */
function unwritable(file: string): string | undefined {
  let dir = dirname(file);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(existsSync(file) ? file : dir, constants.W_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

/** Check 1: the file reads and validates, and every server it names (or `--server`) resolves. */
export function checkConfig(
  path: string,
  server: string | undefined,
): { result: CheckResult; file?: ConfigFile; servers: ServerUnderTest[] } {
  const fail = (problems: string[]): { result: CheckResult; servers: ServerUnderTest[] } => ({
    result: failed('config', `${path}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, CONFIG_FIX, {
      lines: problems,
      data: { problems },
    }),
    servers: [],
  });
  let file: ConfigFile;
  try {
    file = readConfigFile(path);
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.problems);
    throw err;
  }
  // With no --server, every entry is checked in turn (the proxy would need --server to pick one).
  const entries = file.servers ? (server !== undefined ? [server] : Object.keys(file.servers)) : [server];
  const servers: ServerUnderTest[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    try {
      const config = resolveProxyConfig(file, path, { server: entry });
      servers.push({ entry: file.servers ? entry : undefined, config });
      const jsonl = config.telemetry.jsonl;
      const why = jsonl ? unwritable(resolveConfigPath(config.baseDir, jsonl)) : undefined;
      if (why)
        problems.push(
          `${entry ? `servers.${entry}.` : ''}telemetry.jsonl: cannot write ${resolveConfigPath(config.baseDir, jsonl!)} (${why})`,
        );
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length > 0) return { ...fail([...new Set(problems)]), file };
  const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  const detail =
    servers.length === 1 && !file.servers
      ? `${basename(path)}: server "${servers[0]!.config.serverName}", ${servers[0]!.config.mode} mode, ${count(servers[0]!.config.guardrails.rules.length, 'rule')}`
      : `${basename(path)}: ${count(servers.length, 'server')} to check (${servers.map(serverLabel).join(', ')})`;
  const data = { file: resolve(path), servers: servers.map(serverLabel) };
  const outwaited = servers.filter((s) => s.config.approvalTimeoutMs > SDK_REQUEST_TIMEOUT_MS && canAskForApproval(s.config.guardrails));
  if (outwaited.length > 0) {
    const ms = Math.max(...outwaited.map((s) => s.config.approvalTimeoutMs));
    return {
      result: warned(
        'config',
        `${detail}; approvalTimeoutMs ${ms} is longer than hosts wait: hosts built on the official MCP SDKs give up on a call after ${SDK_REQUEST_TIMEOUT_MS / 1000} s, so an approval after that reaches nobody`,
        `set "approvalTimeoutMs" to ${DEFAULTS.approvalTimeoutMs} (the default) or less, unless your host waits longer`,
        { data },
      ),
      file,
      servers,
    };
  }
  return { result: passed('config', detail, { data }), file, servers };
}

/** Whether some rule or template can hold a call for approval. */
function canAskForApproval(guardrails: GuardrailsConfig): boolean {
  return guardrails.rules.some((r) =>
    'template' in r
      ? (r.decision ?? (r.template === 'require_approval_unknown_mcp_tools' ? 'require_approval' : 'block')) === 'require_approval'
      : r.decision === 'require_approval',
  );
}

/**
 * Relative paths that only work from the current folder: without upstream.cwd the upstream runs
 * where the proxy was started, and a host (Claude Desktop, Cursor) picks that folder itself.
 */
function hostDependentPaths(s: ServerUnderTest): string[] {
  const { upstream } = s.config;
  if (upstream.cwd) return [];
  const words = [...(upstream.command.includes('/') ? [upstream.command] : []), ...(upstream.args ?? [])];
  return words.filter((w) => !w.startsWith('-') && !isAbsolute(w) && w.includes('/') && !w.includes('://') && existsSync(resolve(w)));
}

/** Check 2: the upstream command is found and starts. The caller owns (and must stop) the child. */
export async function checkUpstream(s: ServerUnderTest): Promise<{ result: CheckResult; child?: UpstreamProcess }> {
  const { upstream } = s.config;
  const server = serverLabel(s);
  const cwd = upstreamCwd(upstream, s.config.baseDir);
  const shown = [upstream.command, ...(upstream.args ?? [])].join(' ');
  try {
    const env = upstreamEnv(upstream, s.config.secretEnv);
    const child = await startUpstream(upstream, s.config.baseDir, env);
    const found = locateCommand(upstream.command, cwd, env);
    const detail = `${shown} (pid ${child.pid}${found && found !== upstream.command ? `, ${upstream.command} is ${found}` : ''})`;
    const data = { pid: child.pid, command: found ?? upstream.command, cwd };
    const relative = hostDependentPaths(s);
    if (relative.length > 0) {
      const fix = 'use absolute paths in upstream.command and upstream.args, or set upstream.cwd (relative to the config file)';
      return {
        result: warned(
          'upstream',
          `${detail}; ${relative.map((p) => `"${p}"`).join(', ')} is found from here (${cwd}), but upstream.cwd is not set and a host starts the proxy in a folder of its own`,
          fix,
          { server, data },
        ),
        child,
      };
    }
    return { result: passed('upstream', detail, { server, data }), child };
  } catch (err) {
    if (!(err instanceof SpawnError)) throw err;
    const fix =
      err.code === 'ENOCWD'
        ? "check upstream.cwd: the folder must exist (relative paths start at the config file's folder)"
        : err.code === 'EACCES'
          ? 'check upstream.command: the file must be executable (chmod +x), or run it through its interpreter (e.g. "node")'
          : 'check upstream.command: install the program, or give its full path (a command with a "/" is looked up from upstream.cwd)';
    return {
      result: failed('upstream', err.message, fix, {
        server,
        data: { code: err.code ?? null, cwd },
      }),
    };
  }
}

/** Opens the store and writes inside a transaction that is rolled back: nothing in it changes. */
function storeUsable(path: string): { ok: true; version: number } | { ok: false; why: string; fix: string } {
  let plane: LocalControlPlane;
  try {
    plane = LocalControlPlane.open(path);
  } catch (err) {
    return {
      ok: false,
      why: (err as Error).message,
      fix: 'set "store" to a file in a folder you can write (or set RATRI_HOME); see docs/control-plane.md',
    };
  }
  try {
    plane.db.exec('BEGIN IMMEDIATE');
    try {
      plane.db
        .prepare('INSERT INTO boundary (agent_key, server_name, tool, added_at, added_by) VALUES (?, ?, ?, ?, ?)')
        .run('ratri-doctor', 'ratri-doctor', 'write-test', new Date().toISOString(), 'ratri doctor');
    } finally {
      plane.db.exec('ROLLBACK');
    }
    return { ok: true, version: plane.db.pragma('user_version', { simple: true }) as number };
  } catch (err) {
    const why = (err as Error).message;
    const fix = /locked|busy/i.test(why)
      ? 'another process has held the store locked for over 5 s: find it (a stuck ratri?) and stop it'
      : 'make the store file and its folder writable by this user, or set "store" to another path';
    return { ok: false, why: `cannot write to the store ${path}: ${why}`, fix };
  } finally {
    void plane.close();
  }
}

/** Why a fetch failed, in a word: ECONNREFUSED, ENOTFOUND, a timeout. */
function fetchFailure(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

/**
 * Check 6: the control plane answers. Embedded: the store opens and takes a write. Remote: GET
 * /healthz answers, and a request with the key (GET /v1/approvals?status=pending) is not refused.
 */
export async function checkControlPlane(
  config: ProxyConfig,
  storeInFile: boolean,
  timeoutMs: number,
  server: string,
): Promise<CheckResult> {
  const store = storeUsable(config.store);
  if (!config.api) {
    if (!store.ok) return failed('control-plane', store.why, store.fix, { server, data: { kind: 'embedded', store: config.store } });
    const lines = storeInFile
      ? []
      : [
          `the config names no "store": this run used ${config.store} (from ${process.env.RATRI_HOME ? 'RATRI_HOME' : 'the home folder'});`,
          'a proxy your host starts uses its own environment: set "store" so the proxy and "ratri approvals" agree',
        ];
    return passed('control-plane', `embedded store ${config.store} (schema ${store.version}) opens and is writable`, {
      server,
      lines,
      data: { kind: 'embedded', store: config.store, schemaVersion: store.version },
    });
  }
  const url = config.api.url;
  const shown = shownUrl(url);
  const keyEnv = apiKeyEnv(config.api);
  const key = keyEnv === null ? undefined : process.env[keyEnv];
  const data = { kind: 'remote', url: shown, keyEnv, keySet: key !== undefined && key !== '' };
  const keyNote = keyEnv === null ? 'no key ("api.keyEnv": null)' : `key from $${keyEnv} (${data.keySet ? 'set' : 'not set'})`;
  if (!store.ok)
    return failed('control-plane', `${store.why} (with "api" it keeps the events not yet uploaded)`, store.fix, { server, data });
  const base = url.endsWith('/') ? url : `${url}/`;
  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(new URL(path, base), { headers, signal: AbortSignal.timeout(timeoutMs) });
  let health: Response;
  try {
    health = await get('healthz');
  } catch (err) {
    const fix = 'start the control plane (ratri serve) or correct api.url; proxies cannot decide remotely until it answers';
    return failed('control-plane', `cannot reach the control plane at ${shown}: ${fetchFailure(err, timeoutMs)}; ${keyNote}`, fix, {
      server,
      data,
    });
  }
  if (health.status !== 200) {
    await health.body?.cancel();
    return failed(
      'control-plane',
      `GET ${shown.replace(/\/$/, '')}/healthz answered ${health.status}, not 200; ${keyNote}`,
      'check api.url: it must be the address of ratri serve (or a compatible API)',
      { server, data },
    );
  }
  await health.body?.cancel();
  let answer: Response;
  try {
    answer = await get('v1/approvals?status=pending', data.keySet ? { authorization: `Bearer ${key}` } : {});
  } catch (err) {
    return failed(
      'control-plane',
      `GET /v1/approvals at ${shown}: ${fetchFailure(err, timeoutMs)}; ${keyNote}`,
      'check that the control plane stays up (ratri serve)',
      { server, data },
    );
  }
  await answer.body?.cancel();
  if (answer.status === 401 || answer.status === 403) {
    const fix =
      keyEnv === null
        ? 'the API wants a key: set "api.keyEnv" to the environment variable that holds it'
        : data.keySet
          ? `$${keyEnv} does not hold a key the API accepts: set it to the key ratri serve was started with`
          : `set $${keyEnv} to the API's key in the environment the proxy runs in (the key never goes in the config)`;
    return failed('control-plane', `${shown} is up, but refused the key (${answer.status}); ${keyNote}`, fix, { server, data });
  }
  if (answer.status < 200 || answer.status >= 300) {
    return failed(
      'control-plane',
      `${shown} is up, but answered ${answer.status} to GET /v1/approvals; ${keyNote}`,
      'check api.url: it must be the address of ratri serve (or a compatible API)',
      { server, data },
    );
  }
  if (!data.keySet && keyEnv !== null) {
    const fix = `set $${keyEnv} to the API's key, or set "api.keyEnv": null if this API takes no key`;
    return failed(
      'control-plane',
      `${shown} is up, but $${keyEnv} is not set: ratri mcp proxy refuses to start without it; ${keyNote}`,
      fix,
      { server, data },
    );
  }
  if (!data.keySet)
    return warned(
      'control-plane',
      `${shown} is up and accepted a request without a key; ${keyNote}`,
      'anyone who can reach this API can approve calls: start ratri serve with a key',
      { server, data },
    );
  return passed('control-plane', `${shown} is up and accepts the key; ${keyNote}`, { server, data });
}

/** Check 7: what to paste into the host's config (informational, always ✓): the form ratri init writes. */
export function hostSnippet(s: ServerUnderTest, configPath: string): CheckResult {
  const launch = ratriLaunch(resolve(configPath), s.entry);
  const snippet = { mcpServers: { [s.config.serverName]: launch } };
  return passed(
    'host-config',
    'paste into Claude Desktop (claude_desktop_config.json) or Cursor (.cursor/mcp.json), or let ratri init write it:',
    {
      server: serverLabel(s),
      // The args on one line, as people write them: easier to read and to paste than one per line.
      lines: JSON.stringify(snippet, null, 2)
        .replace(/"args": \[[^\]]*\]/, `"args": ${JSON.stringify(launch.args).replace(/","/g, '", "')}`)
        .split('\n'),
      data: snippet,
    },
  );
}
