/**
 * Every JSON-RPC error code ratri itself writes, on stdio and over HTTP, in one table. Nothing else
 * in lib/ writes a code literal (tests/unit/error-codes.test.ts checks it); docs/errors.md describes
 * each one and the ranges below. Refusals of 2026-07-28-era requests are tool results with
 * `isError: true` instead (refusalResult below): that era retires the codes -32000…-32019, and
 * -32002 must not be emitted (docs/errors.md, "Refusals per protocol era").
 *
 * Ranges (JSON-RPC 2.0 reserves -32768 to -32000):
 * - -32700 and -32600 to -32603: the codes JSON-RPC 2.0 itself defines, used with their meaning.
 * - -32000 to -32099: "server error", left to implementations. ratri's own are -32000 to -32003,
 *   each meaning one thing on every transport (-32001 is always "blocked by guardrail"); -32020 and
 *   -32022 are the 2026-07-28 spec's HeaderMismatch and UnsupportedProtocolVersion.
 * Any other code a host reads was written by the upstream and relayed unchanged.
 */

/** The JSON-RPC 2.0 ranges the codes above come from (inclusive bounds). */
export const ErrorCodeRange = {
  /** Codes JSON-RPC 2.0 defines: parse error, and invalid request to internal error. */
  predefined: [
    [-32700, -32700],
    [-32603, -32600],
  ],
  /** Implementation-defined server errors; ratri uses -32000 to -32003, -32020 and -32022 of it. */
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
  /**
   * The upstream exited while the request was pending; also an internal failure of the HTTP front, and
   * (enforce mode with result rules) an upstream answer over maxFrameBytes, which cannot be relayed.
   */
  upstreamExited: -32603,
  /** HTTP front: a request refused before it reached the proxy (Host, Origin, token, limits, headers), or a session that ended before it answered. */
  httpRefused: -32000,
  /**
   * HTTP front: the session named by `Mcp-Session-Id` or `?sessionId=` does not exist or has ended
   * (HTTP 404). Not -32001, which means "blocked by guardrail" (the MCP SDK's own server uses -32001 here).
   */
  sessionNotFound: -32003,
  /**
   * HTTP front, enforce mode: a 2026-07-28 POST whose `MCP-Protocol-Version`, `Mcp-Method` or
   * `Mcp-Name` header is missing where the spec requires it or disagrees with the body (HTTP 400).
   * The spec's HeaderMismatch code.
   */
  headerMismatch: -32020,
  /**
   * HTTP front: a request sent with a 2026-07-28 `MCP-Protocol-Version` header, and no session,
   * whose `params._meta` does not name its protocol version (HTTP 400; invalid params, as the SDK's server answers).
   */
  envelopeMissing: -32602,
  /**
   * HTTP front: a 2026-07-28-style request whose `_meta` names a protocol version the front does not
   * serve (HTTP 400, `data: { supported, requested }`; the spec's UnsupportedProtocolVersion).
   */
  unsupportedProtocolVersion: -32022,
} as const;

export type ProxyErrorCode = (typeof ProxyErrorCode)[keyof typeof ProxyErrorCode];

/**
 * Codes ratri reads in the upstream's answers but never writes itself: the HTTP front gives some of
 * them an HTTP status of their own (lib/transport/stateless-requests.ts). Named here so that no code
 * literal lives outside this file.
 */
export const PeerErrorCode = {
  methodNotFound: -32601,
  invalidParams: -32602,
  /** The 2026-07-28 spec's MissingRequiredClientCapability. */
  missingClientCapability: -32021,
} as const;

/** A request id exactly as the host sent it: its JSON text, so `1`, `1.0` and `"1"` stay distinct. */
export type RawId = string;

/** The id text used when a request's id could not be read (JSON-RPC says `null`). */
export const NULL_ID: RawId = 'null';

export interface BlockedData {
  decision: 'block';
  ruleId: string | null;
  reason: string;
  tool: string;
  /** Set when a result-phase rule refused the upstream's answer (the call itself was forwarded). */
  phase?: 'result';
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

export function blockedMessage(data: BlockedData): string {
  return `Blocked by guardrail: ${data.reason}`;
}

export function blockedError(id: RawId, data: BlockedData): Buffer {
  return errorResponse(id, ProxyErrorCode.blocked, blockedMessage(data), data);
}

const APPROVAL_OUTCOME_TEXT: Record<ApprovalDeniedData['outcome'], string> = {
  timeout: 'approval timed out',
  rejected: 'approval was rejected',
  unavailable: 'no approval could be requested',
};

export function approvalDeniedMessage(data: ApprovalDeniedData): string {
  return `Tool call not approved: ${APPROVAL_OUTCOME_TEXT[data.outcome]}`;
}

export function approvalDeniedError(id: RawId, data: ApprovalDeniedData): Buffer {
  return errorResponse(id, ProxyErrorCode.approvalDenied, approvalDeniedMessage(data), data);
}

export function parseError(reason: string): Buffer {
  return errorResponse(NULL_ID, ProxyErrorCode.parseError, 'Parse error', { reason });
}

export function invalidRequestError(id: RawId, reason: string): Buffer {
  return errorResponse(id, ProxyErrorCode.invalidRequest, 'Invalid request', { reason });
}

export interface AnswerTooLargeData {
  frameBytes: number;
  maxFrameBytes: number;
}

/** Enforce mode with result rules: an upstream answer too long to read, so not relayed (docs/errors.md). */
export function answerTooLargeError(id: RawId, data: AnswerTooLargeData): Buffer {
  return errorResponse(id, ProxyErrorCode.upstreamExited, 'Upstream answer exceeds maxFrameBytes', data);
}

export function upstreamExitedError(id: RawId, data: UpstreamExitedData): Buffer {
  return errorResponse(id, ProxyErrorCode.upstreamExited, 'Upstream MCP server exited before answering', data);
}
