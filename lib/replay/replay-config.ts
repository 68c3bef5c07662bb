/** Turns a resolved proxy config back into a config file (without its upstream) for golden files. */
import type { ConfigFile, ProxyConfig } from '../config/types.js';

export function proxyConfigAsFile(config: ProxyConfig): Omit<ConfigFile, 'upstream' | 'servers'> {
  return {
    agentKey: config.agentKey,
    serverName: config.serverName,
    mode: config.mode,
    environment: config.environment,
    redactKeys: config.redactKeys,
    approvalTimeoutMs: config.approvalTimeoutMs,
    guardrails: config.guardrails,
    guardFailureMode: config.guardFailureMode,
    guardTimeoutMs: config.guardTimeoutMs,
    maxFrameBytes: config.maxFrameBytes,
  };
}
