/**
 * Proof of a round, for the HTTP front's shared 2026-07-28 upstream. Many clients share one
 * interceptor there, and a `requestState` can often be guessed (a server may derive it from the
 * arguments), so a retry that merely repeats tool, arguments and `requestState` could be any
 * client's. The front therefore hands each client whose `tools/call` was answered with
 * `input_required` a `requestState` of its own (`"ratri-round:<random>"`, which the client must echo
 * as it is); on the retry it puts the upstream's own value back before the interceptor reads the
 * request, and tells the interceptor which round the retry proved it continues. Each token works
 * once, and is forgotten with its round (docs/security.md, docs/protocol-eras.md).
 */
import { randomUUID } from 'node:crypto';
import { valuesAt } from '../jsonrpc/json-splice.js';
import { ROUND_TTL_MS } from '../proxy/input-rounds.js';

const RESULT_TYPE = ['result', 'resultType'];
export const RESULT_REQUEST_STATE = ['result', 'requestState'];
export const RETRY_REQUEST_STATE = ['params', 'requestState'];
const PREFIX = 'ratri-round:';
/** At most this many tokens are kept (as many as the interceptor keeps rounds); the oldest goes first. */
const MAX_TOKENS = 256;

interface Issued {
  /** The upstream's `requestState`, as JSON text. */
  requestState: string;
  /** The front's id of the request it answered. */
  answered: string;
  expiresAt: number;
}

export class RoundTokens {
  private readonly issued = new Map<string, Issued>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * For an upstream answer: the `requestState` to give the client instead of the upstream's (JSON
   * text), or undefined when the answer is no `input_required` with a string `requestState`.
   */
  issue(answer: Buffer, answered: string): string | undefined {
    if (valuesAt(answer, RESULT_TYPE)[0] !== '"input_required"') return undefined;
    const states = valuesAt(answer, RESULT_REQUEST_STATE);
    if (states.length !== 1 || !states[0]!.startsWith('"')) return undefined;
    if (this.issued.size >= MAX_TOKENS) this.issued.delete(this.issued.keys().next().value!);
    const token = `${PREFIX}${randomUUID()}`;
    this.issued.set(token, { requestState: states[0]!, answered, expiresAt: this.now() + ROUND_TTL_MS });
    return JSON.stringify(token);
  }

  /**
   * For a client request: when its `requestState` is a token issued and not used yet, the upstream's
   * value to forward instead and the id of the request it answered (the token is used up).
   */
  redeem(request: Buffer): { requestState: string; answered: string } | undefined {
    const states = valuesAt(request, RETRY_REQUEST_STATE);
    if (states.length !== 1) return undefined;
    let token: unknown;
    try {
      token = JSON.parse(states[0]!);
    } catch {
      return undefined;
    }
    if (typeof token !== 'string' || !token.startsWith(PREFIX)) return undefined;
    const issued = this.issued.get(token);
    this.issued.delete(token);
    if (!issued || issued.expiresAt <= this.now()) return undefined;
    return { requestState: issued.requestState, answered: issued.answered };
  }
}
