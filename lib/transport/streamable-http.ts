/**
 * MCP Streamable HTTP (2025-03-26 and later) on one endpoint, `/mcp`:
 *   POST   a message or batch → requests: an SSE stream carrying their answers (and what the server
 *          sends meanwhile), closed once every request is answered; only notifications or
 *          responses: 202.
 *   GET    the session's stream for server-initiated messages; `Last-Event-ID` resumes any stream.
 *   DELETE ends the session; its upstream is stopped.
 * `initialize` creates the session and its upstream; every later request must name it in
 * `Mcp-Session-Id`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorResponse, NULL_ID, ProxyErrorCode } from '../jsonrpc/errors.js';
import { Message, type ParsedMessage, type ReadFrame, readFrame, readHostFrame } from '../jsonrpc/message.js';
import { expectsAnswer, refusalId } from '../jsonrpc/one-reading.js';
import { PROTOCOL_VERSION_META_KEY, requestProtocolVersion } from '../jsonrpc/protocol-era.js';
import { answerError, type BodyPolicy, corsHeaders, type Refusal, readBody, refuse } from './http-security.js';
import type { HttpSession } from './http-session.js';
import { hasMirroredHeaders, headerMismatch } from './mcp-headers.js';
import { SessionStreams } from './session-streams.js';
import { EventBuffer, openEventStream, sseEvent } from './sse.js';
import { missingEnvelope, StatelessRequests, statelessKind } from './stateless-requests.js';

/** The stateless revisions the front serves (docs/http.md, "Modern-era requests"). */
const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'];

/** Protocol versions a client may name in `MCP-Protocol-Version` (the upstream negotiates the actual one). */
export const SUPPORTED_PROTOCOL_VERSIONS = ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'];

/** What a transport needs from the front: the session registry and the body limits. */
export interface FrontContext {
  body: BodyPolicy;
  /** Enforce mode: bodies are read as strictly as the interceptor reads them (docs/policy.md). */
  strict: boolean;
  /** Creates a session with its upstream, or says why not (503 when full). */
  createSession(transport: 'http' | 'sse', id: string): HttpSession | Refusal;
  /** A live session; undefined when unknown or ended. */
  session(id: string): HttpSession | undefined;
  log(message: string): void;
}

/** A POST's body as read: its bytes, the reading, and its messages (one, or a batch's). */
interface PostBody {
  body: Buffer;
  read: ReadFrame;
  messages: ParsedMessage[];
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export class StreamableHttpTransport {
  private readonly state = new Map<string, SessionStreams>();
  /** 2026-07-28 requests: no session, one shared upstream. */
  private readonly stateless: StatelessRequests;

  constructor(private readonly front: FrontContext) {
    this.stateless = new StatelessRequests(front);
  }

  /** Handles one request to `/mcp` (security checks already passed). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A POST is judged by its body first: a 2026-07-28 one names its version there, and the upstream
    // accepts it or answers with the versions it serves.
    if (req.method === 'POST') return this.post(req, res);
    if (this.unsupportedVersion(req, res)) return;
    if (req.method === 'GET') return this.get(req, res);
    if (req.method === 'DELETE') return this.delete(req, res);
    refuse(res, {
      status: 405,
      message: `Method Not Allowed: ${req.method} /mcp (use POST, GET or DELETE)`,
      headers: { Allow: 'GET, POST, DELETE' },
    });
  }

  /**
   * Refuses (400, UnsupportedProtocolVersion) a stateless request whose `_meta` names a revision
   * this front does not serve: a stdio upstream past its opening exchange would not check it.
   */
  private unservedClaim(req: IncomingMessage, res: ServerResponse, message: ParsedMessage): boolean {
    const requested = requestProtocolVersion(message.value);
    if (requested === undefined || MODERN_PROTOCOL_VERSIONS.includes(requested)) return false;
    const data = { supported: MODERN_PROTOCOL_VERSIONS, requested };
    const error = errorResponse(
      message.rawId,
      ProxyErrorCode.unsupportedProtocolVersion,
      `Unsupported protocol version: ${requested}`,
      data,
    );
    answerError(res, 400, error, corsHeaders(req));
    return true;
  }

  /** Refuses (400) an `MCP-Protocol-Version` that names no version this front knows. */
  private unsupportedVersion(req: IncomingMessage, res: ServerResponse): boolean {
    const version = header(req, 'mcp-protocol-version');
    if (version === undefined || SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return false;
    refuse(res, {
      status: 400,
      message: `Bad Request: unsupported MCP-Protocol-Version "${version}" (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
    });
    return true;
  }

  /** Looks up the session a request names; answers 400/404 itself when there is none. */
  private named(req: IncomingMessage, res: ServerResponse): { session: HttpSession; streams: SessionStreams } | undefined {
    const id = header(req, 'mcp-session-id');
    if (id === undefined) {
      refuse(res, { status: 400, message: 'Bad Request: Mcp-Session-Id header is required (send initialize first)' });
      return undefined;
    }
    const session = this.front.session(id);
    const streams = this.state.get(id);
    if (!session || !streams || session.transport !== 'http') {
      refuse(
        res,
        { status: 404, message: `Not Found: session "${id}" does not exist or has ended; initialize a new one` },
        ProxyErrorCode.sessionNotFound,
      );
      return undefined;
    }
    session.lastActivity = Date.now();
    return { session, streams };
  }

  /** The body of a POST as a message or a non-empty batch of objects; answers 406/415/400 itself otherwise. */
  private async readPost(req: IncomingMessage, res: ServerResponse): Promise<PostBody | undefined> {
    const accept = header(req, 'accept') ?? '';
    if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
      return void refuse(res, { status: 406, message: 'Not Acceptable: Accept must list both application/json and text/event-stream' });
    }
    const type = header(req, 'content-type') ?? '';
    if (!/^application\/json\b/i.test(type)) {
      return void refuse(res, { status: 415, message: 'Unsupported Media Type: Content-Type must be application/json' });
    }
    const body = await readBody(req, res, this.front.body);
    if (body === undefined) return undefined;
    const read = this.front.strict ? readHostFrame(body) : readFrame(body);
    if (read.kind === 'invalid-json') {
      return void refuse(res, { status: 400, message: `Parse error: ${read.reason}` }, ProxyErrorCode.parseError);
    }
    const messages: ParsedMessage[] = read.kind === 'single' ? [read.message] : read.kind === 'batch' ? read.messages : [];
    if (messages.length === 0 || messages.some((m) => !Message.isObject(m.value))) {
      return void refuse(
        res,
        { status: 400, message: 'Invalid Request: the body must be a JSON-RPC message or a non-empty batch of them' },
        ProxyErrorCode.invalidRequest,
      );
    }
    return { body, read, messages };
  }

  private async post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const posted = await this.readPost(req, res);
    if (!posted) return;
    const { body, read, messages } = posted;
    const stateless = statelessKind(req, read);
    if (stateless === 'batch') {
      const message = 'Invalid Request: a batch cannot carry 2026-07-28 messages; send each in a POST of its own';
      return refuse(res, { status: 400, message }, ProxyErrorCode.invalidRequest);
    }
    if (stateless === undefined && this.unsupportedVersion(req, res)) return;
    if (read.kind === 'single' && stateless === undefined && missingEnvelope(req, read.message)) {
      const reason = `Invalid params: the MCP-Protocol-Version header names a 2026-07-28 revision but params._meta does not name it under "${PROTOCOL_VERSION_META_KEY}"`;
      return answerError(res, 400, errorResponse(read.message.rawId, ProxyErrorCode.envelopeMissing, reason), corsHeaders(req));
    }
    if (this.headersRefused(req, res, read, stateless === 'single')) return;
    if (stateless === 'single' && read.kind === 'single') {
      if (this.unservedClaim(req, res, read.message)) return;
      if (read.problem ?? read.message.problem) {
        const reason = `Invalid Request: ${read.problem ?? read.message.problem}`;
        return answerError(res, 400, errorResponse(refusalId(read.message, read.problemKey), ProxyErrorCode.invalidRequest, reason));
      }
      return this.stateless.post(req, res, read.message, body);
    }
    const initialize = messages.some((m) => m.method === 'initialize' && m.isRequest);
    const found = initialize ? this.initialized(req, res, messages) : this.named(req, res);
    if (!found) return;
    if (!initialize) found.streams.protocolVersion = header(req, 'mcp-protocol-version') ?? found.streams.protocolVersion;
    return this.streamAnswers(req, res, posted, found);
  }

  /** A new session for an `initialize` sent alone and without `Mcp-Session-Id`; answers 400/503 itself otherwise. */
  private initialized(
    req: IncomingMessage,
    res: ServerResponse,
    messages: readonly ParsedMessage[],
  ): { session: HttpSession; streams: SessionStreams } | undefined {
    if (header(req, 'mcp-session-id') !== undefined) {
      return void refuse(
        res,
        { status: 400, message: 'Bad Request: initialize starts a new session and must not carry Mcp-Session-Id' },
        ProxyErrorCode.invalidRequest,
      );
    }
    if (messages.length > 1) {
      return void refuse(res, { status: 400, message: 'Invalid Request: initialize must be sent alone' }, ProxyErrorCode.invalidRequest);
    }
    const created = this.front.createSession('http', randomUUID());
    if (!('id' in created)) return void refuse(res, created);
    return { session: created, streams: this.attach(created, messages[0]!.param('protocolVersion')) };
  }

  /** Delivers the POST to the session: 202 without requests, else an SSE stream that carries their answers. */
  private async streamAnswers(
    req: IncomingMessage,
    res: ServerResponse,
    { body, read, messages }: PostBody,
    { session, streams }: { session: HttpSession; streams: SessionStreams },
  ): Promise<void> {
    // A message the interceptor will refuse as ambiguous is answered with the id it can trust (maybe
    // null), so this stream waits for that id, not for the one JSON.parse read.
    const frameProblem = read.kind === 'single' || read.kind === 'batch' ? read.problem : undefined;
    const refused = (m: ParsedMessage): boolean => frameProblem !== undefined || m.problem !== undefined;
    const requests = messages.filter((m) => (refused(m) ? expectsAnswer(m.value) : m.isRequest));
    if (requests.length === 0) {
      await session.deliver(body); // 202 once the upstream side has taken it in
      res.writeHead(202, { ...corsHeaders(req), 'Mcp-Session-Id': session.id });
      res.end();
      return;
    }
    const problemKey = read.kind === 'single' ? read.problemKey : undefined;
    const repeated = streams.repeatedId(requests.filter((m) => !refused(m)).map((m) => m.rawId));
    if (repeated !== undefined) {
      const reason = `Invalid Request: request id ${repeated} is already used by a request of this session that has not been answered; send this request with another id`;
      return answerError(res, 400, errorResponse(repeated, ProxyErrorCode.invalidRequest, reason), corsHeaders(req));
    }
    const post = streams.openPost(
      requests.map((m) => ({ rawId: refused(m) ? refusalId(m, problemKey) : m.rawId, progressToken: m.progressToken })),
      res,
    );
    session.openStreams++;
    openEventStream(req, res, { 'Mcp-Session-Id': session.id }, () => {
      session.openStreams--;
      session.lastActivity = Date.now();
      if (post.sink === res) post.sink = undefined; // the answers still go to the buffer for a resume
    });
    // A client of 2025-11-25 or later may resume from the priming id; older ones may not expect empty events.
    if ((streams.protocolVersion ?? '') >= '2025-11-25') res.write(`id: ${streams.buffer.primingId(post.key)}\ndata: \n\n`);
    void session.deliver(body); // the answer is this stream: nothing to hold back
  }

  /**
   * Enforce mode: answers `-32020` (HTTP 400) when the POST's mirrored headers disagree with its
   * body, and says so; monitor mode logs the finding and lets the POST through. A frame the strict
   * reading found ambiguous is left to the refusal of that.
   */
  private headersRefused(req: IncomingMessage, res: ServerResponse, read: ReadFrame, modern: boolean): boolean {
    if (read.kind === 'batch') {
      if (!hasMirroredHeaders(req)) return false;
      return this.mismatch(req, res, NULL_ID, 'a batch cannot be named by Mcp-Method or Mcp-Name headers; send them on single messages');
    }
    if (read.kind !== 'single' || read.problem !== undefined || read.message.problem !== undefined) return false;
    const problem = headerMismatch(req, read.message.value, modern);
    if (problem === undefined) return false;
    return this.mismatch(req, res, read.message.isRequest ? read.message.rawId : NULL_ID, problem);
  }

  private mismatch(req: IncomingMessage, res: ServerResponse, id: string, problem: string): boolean {
    if (!this.front.strict) {
      this.front.log(
        `monitor mode: forwarded a POST whose headers disagree with its body (enforce mode refuses it with -32020): ${problem}`,
      );
      return false;
    }
    this.front.log(`refused a POST whose headers disagree with its body (-32020): ${problem}`);
    answerError(res, 400, errorResponse(id, ProxyErrorCode.headerMismatch, `Header mismatch: ${problem}`), corsHeaders(req));
    return true;
  }

  private get(req: IncomingMessage, res: ServerResponse): void {
    if (!(header(req, 'accept') ?? '').includes('text/event-stream')) {
      return refuse(res, { status: 406, message: 'Not Acceptable: Accept must list text/event-stream' });
    }
    const found = this.named(req, res);
    if (!found) return;
    const { session, streams } = found;
    const lastEventId = header(req, 'last-event-id');
    let stream = 'g';
    let after = streams.standaloneSent;
    if (lastEventId !== undefined) {
      const parsed = EventBuffer.parseId(lastEventId);
      if (!parsed || (parsed.stream !== 'g' && Number(parsed.stream.slice(1)) > streams.nextPost)) {
        return refuse(res, { status: 400, message: `Bad Request: Last-Event-ID "${lastEventId}" is not an event of this session` });
      }
      ({ stream, seq: after } = parsed);
    }
    const post = stream === 'g' ? undefined : streams.posts.get(stream);
    if ((stream === 'g' && streams.standalone) || post?.sink) {
      return refuse(res, { status: 409, message: 'Conflict: this stream already has a connection' });
    }
    session.openStreams++;
    openEventStream(req, res, { 'Mcp-Session-Id': session.id }, () => {
      session.openStreams--;
      session.lastActivity = Date.now();
      if (streams.standalone === res) streams.standalone = undefined;
      if (post && post.sink === res) post.sink = undefined;
    });
    for (const event of streams.buffer.after(stream, after)) res.write(sseEvent(event.data, { id: event.id }));
    if (stream === 'g') {
      streams.standaloneSent = Math.max(streams.standaloneSent, Number(streams.buffer.primingId('g').split('-')[1]));
      streams.standalone = res;
    } else if (post) {
      post.sink = res;
    } else {
      res.end(); // that POST stream was already answered in full: the replay was all that was left
    }
  }

  private delete(req: IncomingMessage, res: ServerResponse): void {
    const found = this.named(req, res);
    if (!found) return;
    res.writeHead(200, { ...corsHeaders(req), 'Mcp-Session-Id': found.session.id });
    res.end();
    found.session.end('client ended the session (DELETE)');
  }

  /** Sets up routing for a new session. */
  private attach(session: HttpSession, protocolVersion: unknown): SessionStreams {
    const streams = new SessionStreams(typeof protocolVersion === 'string' ? protocolVersion : undefined);
    this.state.set(session.id, streams);
    session.onServerLine = (line) => streams.route(line);
    session.onEnded = (reason) => {
      this.state.delete(session.id);
      streams.closeAll(reason);
    };
    session.hasUnanswered = () => streams.hasUnanswered();
    return streams;
  }
}
