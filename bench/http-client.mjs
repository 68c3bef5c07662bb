/**
 * A raw Streamable HTTP MCP client session (fetch, no SDK) for the benchmarks: initialize (and the
 * session id the server gives), requests whose answer comes as JSON or as an SSE stream,
 * notifications, DELETE. Used by bench/http-load.mjs and by the HTTP part of bench/run.mjs.
 */
export const PROTOCOL_VERSION = '2025-06-18';

/** Reads the JSON-RPC message answering `id` from a response that is JSON or an SSE stream. */
async function readAnswer(response, id) {
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('text/event-stream')) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffer += decoder.decode(value, { stream: true });
      let sep;
      while ((sep = buffer.search(/\r?\n\r?\n/)) !== -1) {
        const event = buffer.slice(0, sep);
        buffer = buffer.slice(sep).replace(/^\r?\n\r?\n/, '');
        const data = event
          .split(/\r?\n/)
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).replace(/^ /, ''))
          .join('\n');
        if (!data) continue;
        const message = JSON.parse(data);
        for (const m of Array.isArray(message) ? message : [message]) {
          if (m.id === id && ('result' in m || 'error' in m)) {
            await reader.cancel().catch(() => {});
            return m;
          }
        }
      }
      if (done) throw new Error(`SSE stream ended without an answer to id ${id}`);
    }
  }
  const text = await response.text();
  if (!text) throw new Error(`empty ${response.status} answer to id ${id}`);
  const message = JSON.parse(text);
  const found = (Array.isArray(message) ? message : [message]).find((m) => m.id === id);
  if (!found) throw new Error(`no answer to id ${id} in ${text.slice(0, 200)}`);
  return found;
}

export class Session {
  /** `url`: the MCP endpoint; `timeoutMs`: the longest any request may take; `clientName`: for initialize. */
  constructor(url, { timeoutMs = 30_000, clientName = 'ratri-bench' } = {}) {
    this.url = url;
    this.timeoutMs = timeoutMs;
    this.clientName = clientName;
    this.sessionId = undefined;
    this.nextId = 1;
  }

  headers() {
    const h = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (this.sessionId) {
      h['mcp-session-id'] = this.sessionId;
      h['mcp-protocol-version'] = PROTOCOL_VERSION;
    }
    return h;
  }

  async request(method, params) {
    const id = this.nextId++;
    const response = await fetch(this.url, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`${method}: HTTP ${response.status} ${await response.text().catch(() => '')}`.slice(0, 300));
    if (method === 'initialize') this.sessionId = response.headers.get('mcp-session-id') ?? undefined;
    const answer = await readAnswer(response, id);
    if (answer.error) throw new Error(`${method}: JSON-RPC error ${answer.error.code}: ${answer.error.message}`);
    return answer.result;
  }

  async notify(method, params) {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify({ jsonrpc: '2.0', method, params }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await response.arrayBuffer();
    if (response.status !== 202 && !response.ok) throw new Error(`${method}: HTTP ${response.status}`);
  }

  async open() {
    await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: this.clientName, version: '1.0.0' },
    });
    if (!this.sessionId) throw new Error('initialize answered without an mcp-session-id header');
    await this.notify('notifications/initialized');
  }

  async close() {
    const response = await fetch(this.url, { method: 'DELETE', headers: this.headers(), signal: AbortSignal.timeout(this.timeoutMs) });
    await response.arrayBuffer();
    return response.status;
  }
}
