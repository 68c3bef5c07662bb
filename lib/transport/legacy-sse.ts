/**
 * The legacy HTTP+SSE transport (MCP 2024-11-05), for clients that predate Streamable HTTP:
 *   GET  /sse                       opens the session's stream; its first event is `endpoint`,
 *                                   whose data is the URL to POST to;
 *   POST /messages?sessionId=ID     one message (or batch) from the client; answered 202;
 * and every server→client message goes out on the stream as `event: message`. The stream is the
 * session: when it closes, the session ends and its upstream is stopped.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProxyErrorCode } from '../jsonrpc/errors.js';
import { readFrame } from '../jsonrpc/message.js';
import { corsHeaders, readBody, refuse } from './http-security.js';
import { openEventStream, sseEvent } from './sse.js';
import type { FrontContext } from './streamable-http.js';

export class LegacySseTransport {
  constructor(private readonly front: FrontContext) {}

  /** `GET /sse`. */
  openStream(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET') {
      return refuse(res, { status: 405, message: `Method Not Allowed: ${req.method} /sse (use GET)`, headers: { Allow: 'GET' } });
    }
    const accept = req.headers.accept;
    if (accept !== undefined && !accept.includes('text/event-stream') && !accept.includes('*/*')) {
      return refuse(res, { status: 406, message: 'Not Acceptable: Accept must list text/event-stream' });
    }
    const created = this.front.createSession('sse', randomUUID());
    if (!('id' in created)) return refuse(res, created);
    const session = created;
    session.openStreams++;
    openEventStream(req, res, {}, () => {
      session.openStreams--;
      session.end('client closed the SSE stream');
    });
    session.onServerLine = (line) => (res.write(sseEvent(line, { event: 'message' })) ? undefined : res);
    session.onEnded = () => res.end();
    // Relative, as the SDK's own server sends it: the client resolves it against the /sse URL.
    res.write(`event: endpoint\ndata: /messages?sessionId=${session.id}\n\n`);
  }

  /** `POST /messages?sessionId=ID`. */
  async postMessage(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST') {
      return refuse(res, { status: 405, message: `Method Not Allowed: ${req.method} /messages (use POST)`, headers: { Allow: 'POST' } });
    }
    const id = url.searchParams.get('sessionId');
    if (!id) return refuse(res, { status: 400, message: 'Bad Request: the sessionId query parameter is required (GET /sse first)' });
    const session = this.front.session(id);
    if (!session || session.transport !== 'sse') {
      return refuse(
        res,
        { status: 404, message: `Not Found: session "${id}" does not exist or has ended; open a new one with GET /sse` },
        ProxyErrorCode.sessionNotFound,
      );
    }
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) {
      return refuse(res, { status: 415, message: 'Unsupported Media Type: Content-Type must be application/json' });
    }
    const body = await readBody(req, res, this.front.body);
    if (body === undefined) return;
    const read = readFrame(body);
    if (read.kind === 'invalid-json' || read.kind === 'blank') {
      return refuse(
        res,
        { status: 400, message: `Parse error: ${read.kind === 'blank' ? 'empty body' : read.reason}` },
        ProxyErrorCode.parseError,
      );
    }
    await session.deliver(body); // answered once the upstream side has taken it in
    res.writeHead(202, { ...corsHeaders(req), 'Content-Type': 'text/plain' });
    res.end('Accepted');
  }
}
