/**
 * The one stderr line a proxy started from a config says first (docs/config.md#what-the-proxy-says-at-start):
 * its mode, its rules, and where decisions and events go, so a host's MCP log shows what ratri does.
 */
import { resolveConfigPath } from './paths.js';
import type { ProxyConfig } from './types.js';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function startupSummary(config: ProxyConfig): string {
  const rules = config.guardrails.rules.length;
  const where = config.api
    ? `decisions and events by the control plane at ${config.api.url} (events wait in ${config.store} while it is away)`
    : `events to the store ${config.store}`;
  const jsonl = config.telemetry.jsonl ? ` and ${resolveConfigPath(config.baseDir, config.telemetry.jsonl)}` : '';
  const what = config.mode === 'enforce' ? 'applying' : 'recording what would be decided by';
  return `${config.mode} mode for server "${config.serverName}" (agent "${config.agentKey}"): ${what} ${plural(rules, 'rule')}; ${where}${jsonl}`;
}
