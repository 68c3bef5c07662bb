/**
 * Every JSON-RPC error code ratri itself writes, on stdio and over HTTP, in one table. Nothing else
 * in lib/ writes a code literal (tests/unit/error-codes.test.ts checks it); docs/errors.md describes
 * each one and the ranges below.
 *
 * Ranges (JSON-RPC 2.0 reserves -32768 to -32000):
 * - -32700 and -32600 to -32603: the codes JSON-RPC 2.0 itself defines, used with their meaning.
 * - -32000 to -32099: "server error", left to implementations. ratri's own are -32000 to -32003;
 *   each means one thing on every transport (-32001 is always "blocked by guardrail").
 * Any other code a host reads was written by the upstream and relayed unchanged.
 */

/** The JSON-RPC 2.0 ranges the codes above come from (inclusive bounds). */
export const ErrorCodeRange = {
  /** Codes JSON-RPC 2.0 defines: parse error, and invalid request to internal error. */
  predefined: [
    [-32700, -32700],
    [-32603, -32600],
  ],
  /** Implementation-defined server errors; ratri uses -32000 to -32003 of it. */
  serverError: [[-32099, -32000]],
} as const;

export const ProxyErrorCode = {
  /** A guardrail blocked the call (or the control plane was unreachable under fail_closed). */
  blocked: -32001,
  /** The call needed approval and the approval was rejected, timed out, or could not be created. */
  approvalDenied: -32002,
  /** The host sent a frame that is not valid JSON (enforce mode). */
  parseError: -32700,
  /** The host sent a frame the policy cannot read unambiguously (enforce mode), or one over the size limit. */
  invalidRequest: -32600,
  /** The upstream exited while the request was pending; also an internal failure of the HTTP front. */
  upstreamExited: -32603,
  /** HTTP front: a request refused before it reached the proxy (Host, Origin, token, limits, headers), or a session that ended before it answered. */
  httpRefused: -32000,
  /**
   * HTTP front: the session named by `Mcp-Session-Id` or `?sessionId=` does not exist or has ended
   * (HTTP 404). Not -32001, which means "blocked by guardrail" (the MCP SDK's own server uses -32001 here).
   */
  sessionNotFound: -32003,
} as const;

export type ProxyErrorCode = (typeof ProxyErrorCode)[keyof typeof ProxyErrorCode];

/** A request id exactly as the host sent it: its JSON text, so `1`, `1.0` and `"1"` stay distinct. */
export type RawId = string;

/** The id text used when a request's id could not be read (JSON-RPC says `null`). */
export const NULL_ID: RawId = 'null';

export interface BlockedData {
  decision: 'block';
  ruleId: string | null;
  reason: string;
  tool: string;
}

export interface ApprovalDeniedData {
  decision: 'require_approval';
  /** Null only when no approval could be created (`outcome: "unavailable"`, `reason` says why). */
  approvalId: string | null;
  outcome: 'rejected' | 'timeout' | 'unavailable';
  ruleId: string | null;
  reason?: string;
}

export interface UpstreamExitedData {
  upstreamExitCode: number | null;
  signal: string | null;
}

/**
 * Serializes an error response. The id is spliced in as the host's own JSON text, so its value and
 * type come back byte-for-byte (`"abc"`, `7`, `7.0`, `1e3` …).
 */
export function errorResponse(id: RawId, code: ProxyErrorCode, message: string, data?: unknown): Buffer {
  const error = data === undefined ? { code, message } : { code, message, data };
  return Buffer.from(`{"jsonrpc":"2.0","id":${id},"error":${JSON.stringify(error)}}`);
}

export function blockedError(id: RawId, data: BlockedData): Buffer {
  return errorResponse(id, ProxyErrorCode.blocked, `Blocked by guardrail: ${data.reason}`, data);
}

const APPROVAL_OUTCOME_TEXT: Record<ApprovalDeniedData['outcome'], string> = {
  timeout: 'approval timed out',
  rejected: 'approval was rejected',
  unavailable: 'no approval could be requested',
};

export function approvalDeniedError(id: RawId, data: ApprovalDeniedData): Buffer {
  const why = APPROVAL_OUTCOME_TEXT[data.outcome];
  return errorResponse(id, ProxyErrorCode.approvalDenied, `Tool call not approved: ${why}`, data);
}

export function parseError(reason: string): Buffer {
  return errorResponse(NULL_ID, ProxyErrorCode.parseError, 'Parse error', { reason });
}

export function invalidRequestError(id: RawId, reason: string): Buffer {
  return errorResponse(id, ProxyErrorCode.invalidRequest, 'Invalid request', { reason });
}

export function upstreamExitedError(id: RawId, data: UpstreamExitedData): Buffer {
  return errorResponse(id, ProxyErrorCode.upstreamExited, 'Upstream MCP server exited before answering', data);
}
