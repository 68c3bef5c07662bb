/**
 * The relay's ports (lib/relay/ports.ts) made of the session's services: the control plane decides
 * calls, registers tools and keeps approvals; telemetry observes; the webhook is told of each new
 * approval; the settings are read from the config once (docs/architecture.md, "Ports").
 */
import type { ProxyConfig } from '../config/types.js';
import { ApprovalWebhook } from '../control/approval-webhook.js';
import type { ControlPlane } from '../control/control-plane.js';
import { BlockedToolsFilter } from '../policy/blocked-tools-filter.js';
import { ResultRules } from '../policy/result-rules.js';
import type { ApprovalDesk, RelayPorts, RelaySettings } from '../relay/ports.js';
import { secretFinder } from '../secrets/find-secrets.js';
import type { Telemetry } from '../telemetry/telemetry.js';

export interface RelayServices {
  config: ProxyConfig;
  sessionId: string;
  controlPlane: ControlPlane;
  telemetry: Telemetry;
}

/** What the relay reads of the config. */
export function relaySettings(config: ProxyConfig, sessionId: string): RelaySettings {
  const { guardrails, serverName, environment, approvals } = config;
  return {
    mode: config.mode,
    sessionId,
    agentKey: config.agentKey,
    environment,
    serverName,
    maxFrameBytes: config.maxFrameBytes,
    refusal: config.refusal,
    approvalTimeoutMs: config.approvalTimeoutMs,
    progressIntervalMs: approvals.progressIntervalMs,
    grantWindowMs: approvals.grantWindowMs,
    redactKeys: config.redactKeys,
    guardTimeoutMs: config.guardTimeoutMs,
    guardFailureMode: config.guardFailureMode,
    results: new ResultRules(guardrails, serverName, environment, secretFinder(config.secrets)),
    listFilter: config.hideBlockedTools ? new BlockedToolsFilter(config) : undefined,
  };
}

/** Approvals wait in the control plane; each new one is posted to the webhook, if any, after this turn. */
function approvalDesk({ config, controlPlane, telemetry }: RelayServices): ApprovalDesk {
  const settings = config.approvals.webhook;
  const warn = (reason: string, data: Record<string, unknown>): void => telemetry.warning('approval_webhook_failed', reason, data);
  const webhook = settings ? new ApprovalWebhook(settings, warn) : undefined;
  return {
    awaitApproval: (id, timeoutMs, signal, traceparent) => controlPlane.awaitApproval(id, timeoutMs, signal, traceparent),
    announce: (approvalId) => {
      if (!webhook) return;
      setImmediate(() => {
        controlPlane.getApproval(approvalId).then(
          (approval) => approval && webhook.post(approval),
          (err: unknown) => warn(`approval ${approvalId} could not be read to post it: ${(err as Error).message}`, { approvalId }),
        );
      });
    },
  };
}

export function relayPorts(services: RelayServices, wire: Pick<RelayPorts, 'toUpstream' | 'toHost' | 'log' | 'originOf'>): RelayPorts {
  const { config, controlPlane, telemetry } = services;
  return {
    ...wire,
    settings: relaySettings(config, services.sessionId),
    decider: controlPlane,
    tools: { registerTools: (tools) => controlPlane.defineTools({ agentKey: config.agentKey, serverName: config.serverName, tools }) },
    approvals: approvalDesk(services),
    observer: telemetry,
  };
}
