/**
 * A refused `tools/call` answered in the configured style (docs/errors.md#refusal-styles): as the
 * JSON-RPC error (`-32001` blocked, `-32002` not approved), or as a `CallToolResult` with
 * `isError: true` that the model can read — a text saying what was refused and why, and the error's
 * `data` under `_meta["ratri/refusal"]`. The text holds the rule id and reason, never a value.
 * A 2026-07-28-era request is always refused as a result (with `resultType: "complete"`): that era
 * retires the codes -32000…-32019 (docs/errors.md#refusals-per-protocol-era).
 */
import type { RefusalStyle } from '../config/types.js';
import {
  type ApprovalDeniedData,
  approvalDeniedError,
  approvalDeniedMessage,
  type BlockedData,
  blockedError,
  blockedMessage,
  type RawId,
} from './errors.js';
import type { ProtocolEra } from './protocol-era.js';

/** The `_meta` key that carries the refusal's data in a result-style refusal. */
export const REFUSAL_META_KEY = 'ratri/refusal';

function refusalResult(id: RawId, text: string, data: BlockedData | ApprovalDeniedData, era: ProtocolEra): Buffer {
  const body = { content: [{ type: 'text', text }], isError: true, _meta: { [REFUSAL_META_KEY]: data } };
  const result = era === 'modern' ? { resultType: 'complete', ...body } : body;
  return Buffer.from(`{"jsonrpc":"2.0","id":${id},"result":${JSON.stringify(result)}}`);
}

const byRule = (ruleId: string | null): string => (ruleId === null ? '' : ` (rule "${ruleId}")`);

export function blockedRefusal(style: RefusalStyle, id: RawId, data: BlockedData, era: ProtocolEra = 'legacy'): Buffer {
  if (style === 'error' && era === 'legacy') return blockedError(id, data);
  const what = data.phase === 'result' ? `ratri withheld the answer of ${data.tool}` : `ratri refused the call to ${data.tool}`;
  return refusalResult(id, `${what}${byRule(data.ruleId)}: ${blockedMessage(data)}`, data, era);
}

export function approvalDeniedRefusal(
  style: RefusalStyle,
  id: RawId,
  data: ApprovalDeniedData,
  tool: string,
  era: ProtocolEra = 'legacy',
): Buffer {
  if (style === 'error' && era === 'legacy') return approvalDeniedError(id, data);
  const text = `ratri held the call to ${tool} for approval${byRule(data.ruleId)} and did not run it: ${approvalDeniedMessage(data)}`;
  return refusalResult(id, data.reason ? `${text} (${data.reason})` : text, data, era);
}
