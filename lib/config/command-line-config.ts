/**
 * The no-config start, `ratri mcp proxy -- COMMAND ARGS…`: a ProxyConfig for trying ratri in
 * seconds, monitor mode, agent key `local`, no rules, the default store (docs/config.md#no-config-start).
 */
import { basename, extname } from 'node:path';
import { ConfigError, loadProxyConfig, type Overrides } from './load-config.js';
import { defaultStorePath } from './paths.js';
import { DEFAULTS, type ProxyConfig } from './types.js';

/** The agent key events and approvals of a no-config start are filed under. */
export const COMMAND_LINE_AGENT_KEY = 'local';

/** What error messages call the command line in place of a config file. */
export const COMMAND_LINE_SOURCE = 'the command line';

/** The command's file name without its extension, in the letters serverName allows. */
export function serverNameFor(command: string): string {
  const name = basename(command, extname(command))
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return name === '' ? DEFAULTS.serverName : name;
}

/** Builds the config of `-- COMMAND ARGS…`; `--mode` and `--environment` apply, `--server` cannot. */
export function commandLineConfig(words: string[], overrides: Overrides = {}): ProxyConfig {
  const [command, ...args] = words;
  if (command === undefined || command === '') {
    throw new ConfigError(COMMAND_LINE_SOURCE, [
      '--: name the server command after "--", e.g. ratri mcp proxy -- npx -y @modelcontextprotocol/server-everything',
    ]);
  }
  if (overrides.server !== undefined)
    throw new ConfigError(COMMAND_LINE_SOURCE, [
      '--server: picks an entry of a config\'s "servers"; there is no config here (drop --server, or use --config)',
    ]);
  return {
    agentKey: COMMAND_LINE_AGENT_KEY,
    serverName: serverNameFor(command),
    mode: overrides.mode ?? DEFAULTS.mode,
    environment: overrides.environment ?? DEFAULTS.environment,
    upstream: { command, args },
    redactKeys: [],
    secrets: { redact: true, disabledRules: [] },
    approvalTimeoutMs: DEFAULTS.approvalTimeoutMs,
    guardrails: { rules: [] },
    guardFailureMode: DEFAULTS.guardFailureMode,
    guardTimeoutMs: DEFAULTS.guardTimeoutMs,
    telemetry: {},
    maxFrameBytes: DEFAULTS.maxFrameBytes,
    approvals: { progressIntervalMs: DEFAULTS.progressIntervalMs, grantWindowMs: DEFAULTS.grantWindowMs },
    refusal: DEFAULTS.refusal,
    hideBlockedTools: DEFAULTS.hideBlockedTools,
    store: defaultStorePath(),
    baseDir: process.cwd(),
    source: COMMAND_LINE_SOURCE,
    secretEnv: [DEFAULTS.apiKeyEnv],
  };
}

/** The stderr line that says a no-config start is running, and with what. */
export function commandLineNotice(config: ProxyConfig): string {
  return `no config: proxying "${[config.upstream.command, ...(config.upstream.args ?? [])].join(' ')}" in ${config.mode} mode as agent "${config.agentKey}", server "${config.serverName}", no rules, store ${config.store} (write a config for rules: docs/config.md)`;
}

/** `--config FILE` or `-- COMMAND ARGS…`, exactly one of them. */
export function chooseProxyConfig(configPath: string | undefined, words: string[] | undefined, overrides: Overrides = {}): ProxyConfig {
  const hasWords = words !== undefined && words.length > 0;
  if (configPath !== undefined && hasWords) {
    throw new ConfigError(COMMAND_LINE_SOURCE, [
      '--config: give a config file or a command after "--", not both (the config names its own upstream)',
    ]);
  }
  if (configPath === undefined && !hasWords) {
    throw new ConfigError(COMMAND_LINE_SOURCE, [
      '--config: required: the ratri.mcp.json to run, or try ratri without one: ratri mcp proxy -- COMMAND ARGS…',
    ]);
  }
  return hasWords ? commandLineConfig(words, overrides) : loadProxyConfig(configPath!, overrides);
}
