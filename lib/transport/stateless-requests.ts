/**
 * 2026-07-28 (stateless) requests on the HTTP front. Such a POST names no session and carries its
 * protocol version in `_meta`, so every one of them, from every client, goes to ONE upstream per
 * front, started with the first of them and ended when idle, like a session. Never one upstream
 * per request: spawning per request is what leaked processes in other proxies.
 *
 * Clients choose their ids independently, so two of them may both send id `1` at once. Each
 * request therefore gets an id of the front's own (`"ratri-N"`, a string every upstream echoes as
 * it is) before it reaches the interceptor, so the policy reads exactly what the upstream gets; its
 * progress token likewise. On the way back the answer, the request's progress notifications and
 * the notifications of a `subscriptions/listen` (tagged with its id in `_meta`) get the client's
 * own id and token back, spliced in byte for byte, and go out on that request's event stream.
 * A client that closes a stream before its answer makes ratri send `notifications/cancelled` for it.
 * See docs/http.md, "Modern-era requests", for what this design cannot do.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorResponse, PeerErrorCode, ProxyErrorCode } from '../jsonrpc/errors.js';
import { peekEnvelope } from '../jsonrpc/json-scan.js';
import { spliceAt, valuesAt } from '../jsonrpc/json-splice.js';
import { Message, type ParsedMessage, type ReadFrame, rawIdKey } from '../jsonrpc/message.js';
import { isModernVersion, protocolEra, requestProtocolVersion } from '../jsonrpc/protocol-era.js';
import { answerError, corsHeaders, refuse } from './http-security.js';
import type { HttpSession } from './http-session.js';
import { RESULT_REQUEST_STATE, RETRY_REQUEST_STATE, RoundTokens } from './round-tokens.js';
import { openEventStream, sseEvent } from './sse.js';
import type { FrontContext } from './streamable-http.js';

const ID = ['id'];
const PROGRESS_TOKEN = ['params', '_meta', 'progressToken'];
const PROGRESS_OF = ['params', 'progressToken'];
const SUBSCRIPTION = ['params', '_meta', 'io.modelcontextprotocol/subscriptionId'];
const CANCELLED_ID = ['params', 'requestId'];

/**
 * Errors the 2026-07-28 HTTP binding answers with an HTTP status of their own, as the SDK's server
 * does, when they are the whole answer to a request: parse error, invalid request, method not found
 * (404), an invalid `_meta` envelope, HeaderMismatch, a missing client capability, an unsupported
 * protocol version. Every other answer is a `200` event stream.
 */
const ERROR_STATUS = new Map<number, number>([
  [ProxyErrorCode.parseError, 400],
  [ProxyErrorCode.invalidRequest, 400],
  [PeerErrorCode.methodNotFound, 404],
  [ProxyErrorCode.headerMismatch, 400],
  [PeerErrorCode.missingClientCapability, 400],
  [ProxyErrorCode.unsupportedProtocolVersion, 400],
]);
/** How long an answer may take to come as a bare error before the event stream opens (with its keep-alives). */
const STREAM_AFTER_MS = 1000;

function errorStatus(line: Buffer): number | undefined {
  const error = peekEnvelope(line).error as { code?: unknown; data?: { envelope?: unknown } } | undefined;
  if (typeof error?.code !== 'number') return undefined;
  if (error.code === PeerErrorCode.invalidParams) return error.data?.envelope === undefined ? undefined : 400;
  return ERROR_STATUS.get(error.code);
}

/** One request in flight on the shared upstream. */
interface InFlight {
  /** The id the client wrote, as it wrote it. */
  clientId: string;
  /** The front's own id for it, as JSON text (`"ratri-7"`). */
  upstreamId: string;
  /** The front's id of the request whose round this retry proved it continues ('' when none: round-tokens.ts). */
  continues: string;
  /** The client's progress token, as written, and the front's, when the request has one. */
  token?: { client: string; upstream: string };
  method: string;
  req: IncomingMessage;
  sink: ServerResponse;
  /** Whether the event stream is open (its headers sent). */
  opened: boolean;
  timer?: NodeJS.Timeout;
}

/** The shared upstream and what is in flight on it. */
interface Shared {
  session: HttpSession;
  /** By rawIdKey of the front's id. */
  byId: Map<string, InFlight>;
  /** By rawIdKey of the front's progress token. */
  byToken: Map<string, InFlight>;
}

/**
 * A `_meta` version claim that names no 2025-era revision (`v999.0.0`): only a stateless upstream can
 * answer it, with the versions it serves, as the SDK's server treats every claim that is not 2025-era.
 */
function unknownClaim(value: unknown): boolean {
  const claimed = requestProtocolVersion(value);
  return claimed !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(claimed);
}

/**
 * Whether a POST is 2026-07-28 traffic, read from the body first as the SDK's own server does: a
 * message whose `_meta` names a modern revision; or a notification without one sent with a modern
 * `MCP-Protocol-Version` and no `Mcp-Session-Id` (notifications carry no `_meta` version of their own).
 * `batch`: a batch holding a modern message, which the 2026-07-28 revision does not allow.
 */
export function statelessKind(req: IncomingMessage, read: ReadFrame): 'single' | 'batch' | undefined {
  if (read.kind === 'batch') return read.messages.some((m) => protocolEra(m.value) === 'modern') ? 'batch' : undefined;
  if (read.kind !== 'single') return undefined;
  const value = read.message.value;
  if (protocolEra(value) === 'modern' || unknownClaim(value)) return 'single';
  const version = req.headers['mcp-protocol-version'];
  const modernHeader = typeof version === 'string' && isModernVersion(version);
  return Message.isNotification(value) && modernHeader && req.headers['mcp-session-id'] === undefined ? 'single' : undefined;
}

/**
 * A request sent as 2026-07-28 traffic (a modern `MCP-Protocol-Version`, no `Mcp-Session-Id`) whose
 * `_meta` does not name its version: it can go neither to the shared upstream (whose era it would
 * change) nor to a session, so it is refused (`-32602`, as the SDK's server does).
 */
export function missingEnvelope(req: IncomingMessage, message: ParsedMessage): boolean {
  if (requestProtocolVersion(message.value) !== undefined) return false; // a claim: its headers are compared
  const version = req.headers['mcp-protocol-version'];
  const modernHeader = typeof version === 'string' && isModernVersion(version);
  return modernHeader && message.isRequest && req.headers['mcp-session-id'] === undefined;
}

export class StatelessRequests {
  private shared: Shared | undefined;
  private next = 0;
  private readonly tokens = new RoundTokens();

  constructor(private readonly front: FrontContext) {}

  /** Serves one 2026-07-28 POST carrying one message, already read and checked. */
  async post(req: IncomingMessage, res: ServerResponse, message: ParsedMessage, body: Buffer): Promise<void> {
    const shared = this.upstream(res);
    if (!shared) return;
    if (!message.isRequest) return this.notification(req, res, shared, message, body);
    const n = ++this.next;
    const flight: InFlight = {
      clientId: message.rawId,
      upstreamId: `"ratri-${n}"`,
      method: message.method ?? '',
      continues: '',
      req,
      sink: res,
      opened: false,
    };
    let forwarded = spliceAt(body, ID, flight.upstreamId);
    const proof = flight.method === 'tools/call' ? this.tokens.redeem(body) : undefined;
    if (proof) {
      // The upstream gets its own requestState back; the interceptor learns which round this continues.
      forwarded = spliceAt(forwarded, RETRY_REQUEST_STATE, proof.requestState);
      flight.continues = proof.answered;
    }
    const token = valuesAt(body, PROGRESS_TOKEN)[0];
    if (token !== undefined) {
      flight.token = { client: token, upstream: `"ratri-p${n}"` };
      forwarded = spliceAt(forwarded, PROGRESS_TOKEN, flight.token.upstream);
      shared.byToken.set(rawIdKey(flight.token.upstream), flight);
    }
    shared.byId.set(rawIdKey(flight.upstreamId), flight);
    shared.session.openStreams++;
    res.once('close', () => {
      clearTimeout(flight.timer);
      shared.session.openStreams--;
      shared.session.lastActivity = Date.now();
      if (this.forget(shared, flight)) this.cancel(shared, flight, 'the client closed the request stream');
    });
    // The stream opens with the first event, or after STREAM_AFTER_MS: an answer that is a bare
    // protocol error before then gets its own HTTP status instead.
    flight.timer = setTimeout(() => this.open(flight), STREAM_AFTER_MS);
    void shared.session.deliver(forwarded);
  }

  /** The shared upstream, started on first use; answers 503 itself when it cannot be started. */
  private upstream(res: ServerResponse): Shared | undefined {
    if (this.shared && !this.shared.session.ended) return this.shared;
    const created = this.front.createSession('http', `stateless-${randomUUID()}`);
    if (!('id' in created)) {
      refuse(res, created);
      return undefined;
    }
    const shared: Shared = { session: created, byId: new Map(), byToken: new Map() };
    created.onServerLine = (line) => this.route(shared, line);
    created.onEnded = (reason) => this.closeAll(shared, reason);
    created.hasUnanswered = () => shared.byId.size > 0;
    // Events and approvals record the client's own id, not the front's (request-origin.ts).
    created.originOf = (rawId) => {
      const flight = shared.byId.get(rawIdKey(rawId));
      return flight && { clientId: flight.clientId, continues: flight.continues };
    };
    this.shared = shared;
    this.front.log(`2026-07-28 requests share one upstream (session ${created.id.slice(0, 18)})`);
    return shared;
  }

  /**
   * A client notification: a cancellation names the client's id, so it is forwarded with the
   * front's id when exactly one request in flight has that id; otherwise (unknown, or several
   * clients use it) it cannot be told apart and is not forwarded. Others pass unchanged.
   */
  private async notification(req: IncomingMessage, res: ServerResponse, shared: Shared, message: ParsedMessage, body: Buffer) {
    let forwarded: Buffer | undefined = body;
    if (message.method === 'notifications/cancelled') {
      const named = message.rawParam('requestId');
      const matches = [...shared.byId.values()].filter((f) => named !== undefined && rawIdKey(f.clientId) === rawIdKey(named));
      forwarded = matches.length === 1 ? spliceAt(body, CANCELLED_ID, matches[0]!.upstreamId) : undefined;
      if (!forwarded)
        this.front.log(`a 2026-07-28 cancellation of request ${named} matches ${matches.length} requests in flight; not forwarded`);
    }
    if (forwarded) await shared.session.deliver(forwarded);
    res.writeHead(202, corsHeaders(req));
    res.end();
  }

  /** Sends one upstream line to the stream of the request it belongs to, with the client's ids back. */
  private route(shared: Shared, line: Buffer): ServerResponse | undefined {
    const envelope = peekEnvelope(line);
    if (envelope.kind === 'object' && envelope.method === undefined && envelope.rawId !== undefined) {
      const flight = shared.byId.get(rawIdKey(envelope.rawId));
      if (!flight) return this.drop(`an answer to id ${envelope.rawId}, which no client is waiting for`);
      let answer = spliceAt(line, ID, flight.clientId);
      const token = flight.method === 'tools/call' ? this.tokens.issue(answer, flight.upstreamId) : undefined;
      if (token) answer = spliceAt(answer, RESULT_REQUEST_STATE, token);
      this.forget(shared, flight);
      const status = flight.opened ? undefined : errorStatus(answer);
      if (status !== undefined) {
        clearTimeout(flight.timer);
        answerError(flight.sink, status, answer, corsHeaders(flight.req));
        return undefined;
      }
      const ok = this.write(flight, answer);
      flight.sink.end();
      return ok ? undefined : flight.sink;
    }
    if (envelope.kind !== 'object' || typeof envelope.method !== 'string' || envelope.rawId !== undefined)
      return this.drop('a server request or batch, which 2026-07-28 clients cannot be sent');
    return this.notify(shared, envelope.method, line);
  }

  /** A server notification: by its progress token, by its subscription id, else to the one request in flight. */
  private notify(shared: Shared, method: string, line: Buffer): ServerResponse | undefined {
    const token = method === 'notifications/progress' ? valuesAt(line, PROGRESS_OF)[0] : undefined;
    if (token !== undefined) {
      const flight = shared.byToken.get(rawIdKey(token));
      if (!flight?.token) return this.drop(`progress for token ${token}, which no request in flight has`);
      return this.write(flight, spliceAt(line, PROGRESS_OF, flight.token.client)) ? undefined : flight.sink;
    }
    const subscription = valuesAt(line, SUBSCRIPTION)[0];
    if (subscription !== undefined) {
      const flight = shared.byId.get(rawIdKey(subscription));
      if (!flight) return this.drop(`a notification for subscription ${subscription}, which is not open`);
      return this.write(flight, spliceAt(line, SUBSCRIPTION, flight.clientId)) ? undefined : flight.sink;
    }
    // Tied to no request by its content (a log message): only the one request in flight can own it.
    const calls = [...shared.byId.values()].filter((f) => f.method !== 'subscriptions/listen');
    if (calls.length !== 1) return this.drop(`${method} while ${calls.length} requests are in flight, so it belongs to none of them`);
    return this.write(calls[0]!, line) ? undefined : calls[0]!.sink;
  }

  private write(flight: InFlight, line: Buffer): boolean {
    this.open(flight);
    return flight.sink.write(sseEvent(line, {}));
  }

  private open(flight: InFlight): void {
    if (flight.opened || flight.sink.destroyed) return;
    clearTimeout(flight.timer);
    flight.opened = true;
    openEventStream(flight.req, flight.sink, {}, () => undefined);
  }

  private drop(what: string): undefined {
    this.front.log(`the shared 2026-07-28 upstream sent ${what}; not sent to any client`);
    return undefined;
  }

  /** Takes a request out of the tables; false when it was already gone (answered). */
  private forget(shared: Shared, flight: InFlight): boolean {
    if (!shared.byId.delete(rawIdKey(flight.upstreamId))) return false;
    if (flight.token) shared.byToken.delete(rawIdKey(flight.token.upstream));
    return true;
  }

  private cancel(shared: Shared, flight: InFlight, reason: string): void {
    const cancelled = `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":${flight.upstreamId},"reason":${JSON.stringify(reason)}}}`;
    void shared.session.deliver(Buffer.from(cancelled));
  }

  /** The shared upstream ended: requests in flight get an error on their streams. */
  private closeAll(shared: Shared, reason: string): void {
    if (this.shared === shared) this.shared = undefined;
    for (const flight of [...shared.byId.values()]) {
      this.forget(shared, flight);
      // -32603, not the front's -32000: codes -32000…-32019 are legacy in the 2026-07-28 era.
      const error = errorResponse(
        flight.clientId,
        ProxyErrorCode.upstreamExited,
        `the shared upstream ended before it answered: ${reason}`,
      );
      this.write(flight, error);
      flight.sink.end();
    }
  }
}
