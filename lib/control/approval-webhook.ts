/**
 * Approval notifications out: each new pending approval is posted to `approvals.webhook.url` as
 * JSON, or in a Slack- or Teams-compatible shape, so a human hears of a held call without watching
 * a terminal (docs/control-plane.md, "Webhook"). Posting happens in the background: it never delays
 * a frame, and a post that fails (after its retries) is only recorded as a warning — it never
 * decides the call. The URL and headers may hold secrets (a Slack webhook's path is one), so neither
 * is ever written to an event: a failure names the URL's origin only.
 */
import type { WebhookConfig } from '../config/types.js';
import type { ApprovalRecord } from './control-plane.js';

/** How long one attempt may take when the config does not say. */
export const WEBHOOK_TIMEOUT_MS = 5_000;
/** The pauses before the second and the third attempt. */
const RETRY_DELAYS_MS = [250, 1_000] as const;
/** Slack and Teams cards cut the arguments' JSON here (the JSON body carries them whole). */
const CARD_ARGUMENTS_CHARS = 2_000;

/** The commands a human runs to decide, as the body names them. */
function commands(id: string): { approve: string; reject: string; show: string } {
  return { approve: `ratri approvals approve ${id}`, reject: `ratri approvals reject ${id}`, show: `ratri approvals show ${id}` };
}

function cardText(a: ApprovalRecord): string {
  const json = JSON.stringify(a.arguments);
  const args = json.length > CARD_ARGUMENTS_CHARS ? `${json.slice(0, CARD_ARGUMENTS_CHARS)}… (${json.length} chars; see show)` : json;
  const c = commands(a.id);
  return [
    `ratri: ${a.serverName}.${a.tool} waits for approval ${a.id} (agent ${a.agentKey}, rule ${a.ruleId ?? '-'}${a.reason ? `: ${a.reason}` : ''})`,
    `arguments (redacted): ${args}`,
    `approve: ${c.approve}   reject: ${c.reject}   show: ${c.show}   (or the dashboard: ratri dashboard)`,
    `expires ${a.expiresAt}`,
  ].join('\n');
}

/** The body posted for `approval` in `format` (docs/control-plane.md, "Webhook"). */
export function webhookBody(format: WebhookConfig['format'], a: ApprovalRecord): unknown {
  if (format === 'slack') return { text: cardText(a) };
  if (format === 'teams') {
    const body = cardText(a)
      .split('\n')
      .map((text) => ({ type: 'TextBlock', text, wrap: true }));
    const content = { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4', body };
    return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content }] };
  }
  return {
    type: 'ratri.approval.pending',
    approval: {
      id: a.id,
      tool: `${a.serverName}.${a.tool}`,
      agentKey: a.agentKey,
      serverName: a.serverName,
      sessionId: a.sessionId,
      requestId: a.requestId,
      arguments: a.arguments,
      ruleId: a.ruleId,
      reason: a.reason,
      requestedAt: a.requestedAt,
      expiresAt: a.expiresAt,
    },
    commands: commands(a.id),
    dashboard: 'ratri dashboard',
  };
}

/** Why one attempt failed, or undefined when the receiver took it (any 2xx). */
async function attempt(config: WebhookConfig, body: string): Promise<string | undefined> {
  const timeoutMs = config.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  try {
    const response = await fetch(config.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...config.headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return response.ok ? undefined : `HTTP ${response.status}`;
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? (err as Error).message;
  }
}

export class ApprovalWebhook {
  constructor(
    private readonly config: WebhookConfig,
    /** Told once when every attempt failed: the reason names the URL's origin and each attempt's failure. */
    private readonly warn: (reason: string, data: Record<string, unknown>) => void,
  ) {}

  /** Posts `approval`, retrying twice; resolves true when the receiver took it. Never rejects. */
  async post(approval: ApprovalRecord): Promise<boolean> {
    const body = JSON.stringify(webhookBody(this.config.format, approval));
    const failures: string[] = [];
    for (let i = 0; ; i++) {
      const failure = await attempt(this.config, body);
      if (failure === undefined) return true;
      failures.push(failure);
      const pause = RETRY_DELAYS_MS[i];
      if (pause === undefined) break;
      await new Promise((r) => setTimeout(r, pause).unref());
    }
    const origin = new URL(this.config.url).origin;
    this.warn(
      `the approval webhook at ${origin} did not take approval ${approval.id} after ${failures.length} attempts: ${failures.join('; ')}`,
      {
        approvalId: approval.id,
        attempts: failures.length,
      },
    );
    return false;
  }
}
