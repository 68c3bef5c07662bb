/**
 * Calls answered with `input_required` (MCP 2026-07-28, multi round-trip requests), remembered so
 * their retry is recognised as the same call (docs/protocol-eras.md): the retry of an approved call
 * is not held again, and its events name the round and the first call. A retry is tied to a round
 * only by what cannot be dressed up: the same tool, the very same `arguments` text, and the
 * `requestState` the upstream gave (or none, when it gave none). Each round is used by one retry at
 * most, and is forgotten after ROUND_TTL_MS. A call that only looks like a retry (it carries
 * `inputResponses` or `requestState`) but matches no round is judged as a new call. When several
 * clients share one interceptor (the HTTP front's shared 2026-07-28 upstream), a retry must also
 * prove which round it continues: the front's id of the request answered with `input_required`,
 * which the front learns from the `requestState` it handed to that client alone (request-origin.ts).
 */
import type { RawId } from '../jsonrpc/errors.js';
import { Message } from '../jsonrpc/message.js';

/** How long a retry may take to come (a human may be filling in a form): 10 minutes. */
export const ROUND_TTL_MS = 10 * 60_000;
/** At most this many rounds are remembered; the oldest goes first. */
const MAX_OPEN_ROUNDS = 256;

/** Where a call stands in its chain of rounds. */
export interface CallRound {
  /** 1 for a new call; n + 1 for the retry of round n. */
  number: number;
  /** The request id of round 1, as the host wrote it. */
  firstCallId: RawId;
  /** The approval a human gave to this call in an earlier round, or in this one. */
  approvalId?: string;
}

/** A forwarded call's round, kept with its pending request until the answer says whether a retry will come. */
export interface PendingRound extends CallRound {
  tool: string;
  /** The call's `arguments` exactly as the host wrote them ('' when absent); read only when needed. */
  argumentsText(): string;
}

/** What identifies a call's retry: tool, `arguments` text exactly as written, `requestState` value. */
export interface RetryKey {
  tool: string;
  argumentsText: string;
  requestState: string | undefined;
}

interface OpenRound extends RetryKey {
  round: CallRound;
  /** The request id (as the interceptor read it) that was answered with `input_required`. */
  answered: RawId;
  expiresAt: number;
}

/** Whether `tools/call` params carry the members only a retry has. */
export function looksLikeRetry(params: unknown): boolean {
  return Message.isObject(params) && (params.inputResponses !== undefined || params.requestState !== undefined);
}

export class InputRounds {
  private readonly open: OpenRound[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.open.length;
  }

  /** A call was answered with `input_required`: its retry may continue it. */
  add(key: RetryKey, round: CallRound, answered: RawId): void {
    if (this.open.length >= MAX_OPEN_ROUNDS) this.open.shift();
    this.open.push({ ...key, round, answered, expiresAt: this.now() + ROUND_TTL_MS });
  }

  /**
   * The round a retry continues (removed: it continues one retry only), or undefined. `proves`:
   * given when clients share the interceptor, the id of the request whose round the retry proved it
   * continues ('' when it proved none); only that round can match.
   */
  take(key: RetryKey, proves?: RawId): CallRound | undefined {
    const now = this.now();
    for (let i = this.open.length - 1; i >= 0; i--) if ((this.open[i] as OpenRound).expiresAt <= now) this.open.splice(i, 1);
    const index = this.open.findIndex(
      (r) =>
        r.tool === key.tool &&
        r.argumentsText === key.argumentsText &&
        r.requestState === key.requestState &&
        (proves === undefined || r.answered === proves),
    );
    if (index === -1) return undefined;
    return (this.open.splice(index, 1)[0] as OpenRound).round;
  }
}
