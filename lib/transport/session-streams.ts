/**
 * Where the lines of one Streamable HTTP session go (docs/http.md): an answer to the SSE stream of
 * the POST that carried its request, progress to the stream of the request it reports on, anything
 * else to the session's GET stream (or, without one, the newest connected POST stream: never more
 * than one stream, the spec forbids broadcasting). Every line is kept in the session's event buffer
 * first, so a client that reconnects with `Last-Event-ID` gets what it missed.
 */
import type { ServerResponse } from 'node:http';
import { errorResponse, ProxyErrorCode } from '../jsonrpc/errors.js';
import { peekEnvelope } from '../jsonrpc/json-scan.js';
import { idKey, Message, rawIdKey, readFrame } from '../jsonrpc/message.js';
import { NumericIdSpellings } from '../relay/numeric-id-spellings.js';
import { EventBuffer, sseEvent } from './sse.js';

/** The answer stream of one POST that carried requests. */
export interface PostStream {
  key: string;
  /** Requests not answered yet: rawIdKey → the id as the client wrote it. */
  pending: Map<string, string>;
  progressTokens: string[];
  /** The live HTTP response, if the client is still connected (or reconnected with Last-Event-ID). */
  sink?: ServerResponse;
}

/** A request of a POST, as its answer will name it. */
export interface PostedRequest {
  /** The id's JSON text as the client wrote it (the one the answer must carry). */
  rawId: string;
  progressToken?: unknown;
}

export class SessionStreams {
  readonly buffer = new EventBuffer();
  readonly posts = new Map<string, PostStream>();
  /** Keyed by the id's own text (rawIdKey), as the interceptor matches answers: `7` and `7.0` are two requests. */
  private readonly byRequest = new Map<string, PostStream>();
  /** Pending ids spelled unlike JSON.stringify, for an upstream that re-serialises them (`7.0` answered as `7`). */
  private readonly spellings = new NumericIdSpellings();
  private readonly byProgress = new Map<string, PostStream>();
  /** The session's GET stream, while a client holds it. */
  standalone?: ServerResponse;
  /** The sequence number of the last GET-stream event written to a live GET stream. */
  standaloneSent = 0;
  /** How many POST streams the session has opened (their keys are `p1`, `p2`, …). */
  nextPost = 0;

  constructor(public protocolVersion: string | undefined) {}

  /** A POST's requests: their answers (and their progress) go to `sink` from now on. */
  openPost(requests: readonly PostedRequest[], sink: ServerResponse): PostStream {
    const post: PostStream = { key: `p${++this.nextPost}`, pending: new Map(), progressTokens: [], sink };
    for (const { rawId, progressToken } of requests) {
      const key = rawIdKey(rawId);
      post.pending.set(key, rawId);
      this.byRequest.set(key, post);
      this.spellings.add(key);
      if (progressToken !== undefined) {
        post.progressTokens.push(idKey(progressToken));
        this.byProgress.set(idKey(progressToken), post);
      }
    }
    this.posts.set(post.key, post);
    return post;
  }

  /**
   * A request among these whose answer could not be told from another's: its id, as the interceptor
   * keys it, is that of a request of this session still unanswered, or of an earlier one of the same
   * POST. Each answer goes to the one stream that waits for its id, so the POST is refused instead
   * (docs/http.md). Ids that are one number spelled otherwise (`7`, `7.0`) are routed apart; the
   * interceptor's own check refuses those in enforce mode (docs/errors.md).
   */
  repeatedId(rawIds: readonly string[]): string | undefined {
    const seen = new Set<string>();
    for (const rawId of rawIds) {
      const key = rawIdKey(rawId);
      if (this.byRequest.has(key) || seen.has(key)) return rawId;
      seen.add(key);
    }
    return undefined;
  }

  hasUnanswered(): boolean {
    return this.byRequest.size > 0;
  }

  /**
   * Sends one line from the proxy on the stream it belongs to; returns that stream's response when
   * it is full (the session then waits for it to drain before taking more from the upstream).
   */
  route(line: Buffer): ServerResponse | undefined {
    const classified = classify(line);
    const answers = classified.answers.map((a) => this.requestKey(a)).filter((k): k is string => k !== undefined);
    const progressToken = classified.progressToken;
    const post =
      answers.length > 0 ? this.byRequest.get(answers[0]!) : progressToken !== undefined ? this.byProgress.get(progressToken) : undefined;
    if (post) {
      const sink = post.sink;
      const ok = sink?.write(sseEvent(line, { id: this.buffer.add(post.key, line) })) ?? true;
      for (const key of answers) this.settle(key);
      return ok ? undefined : sink;
    }
    // Server-initiated (or unrelated): the GET stream; without one, the newest connected POST
    // stream (clients that never open GET still see sampling/elicitation requests); else keep it
    // for the next GET.
    const live = [...this.posts.values()].reverse().find((p) => p.sink);
    if (!this.standalone && live) {
      const sink = live.sink!;
      return sink.write(sseEvent(line, { id: this.buffer.add(live.key, line) })) ? undefined : sink;
    }
    const id = this.buffer.add('g', line);
    const sink = this.standalone;
    if (!sink) return undefined;
    this.standaloneSent = EventBuffer.parseId(id)!.seq;
    return sink.write(sseEvent(line, { id })) ? undefined : sink;
  }

  /** The session ended: unanswered requests get an error, every stream is closed. */
  closeAll(reason: string): void {
    for (const post of this.posts.values()) {
      for (const rawId of post.pending.values()) {
        const error = errorResponse(rawId, ProxyErrorCode.httpRefused, `the session ended before the server answered: ${reason}`);
        post.sink?.write(sseEvent(error, { id: this.buffer.add(post.key, error) }));
      }
      post.sink?.end();
    }
    this.posts.clear();
    this.standalone?.end();
  }

  /** The pending request an answer's id names: the same text, else the one pending number it respells. */
  private requestKey(answerKey: string): string | undefined {
    if (this.byRequest.has(answerKey)) return answerKey;
    return this.spellings.match(answerKey, (k) => this.byRequest.has(k));
  }

  /** A request was answered; its POST stream ends once all of its requests are. */
  private settle(key: string): void {
    const post = this.byRequest.get(key);
    if (!post) return;
    this.byRequest.delete(key);
    this.spellings.delete(key);
    post.pending.delete(key);
    if (post.pending.size > 0) return;
    for (const token of post.progressTokens) if (this.byProgress.get(token) === post) this.byProgress.delete(token);
    this.posts.delete(post.key);
    post.sink?.end();
  }
}

/** Which requests a server line answers (rawIdKeys), or which progress token it reports on. */
function classify(line: Buffer): { answers: string[]; progressToken?: string } {
  const envelope = peekEnvelope(line);
  if (envelope.kind === 'object') {
    if (envelope.method === undefined) return { answers: envelope.rawId === undefined ? [] : [rawIdKey(envelope.rawId)] };
    if (envelope.method !== 'notifications/progress') return { answers: [] };
  } else if (envelope.kind !== 'array') {
    return { answers: [] };
  }
  const read = readFrame(line);
  if (read.kind === 'batch') return { answers: read.messages.filter((m) => Message.isResponse(m.value)).map((m) => rawIdKey(m.rawId)) };
  if (read.kind !== 'single') return { answers: [] };
  const token = read.message.param('progressToken');
  return { answers: [], progressToken: token === undefined ? undefined : idKey(token) };
}
