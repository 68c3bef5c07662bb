/**
 * A raw Streamable HTTP client for the built CLI's HTTP front: starts `ratri mcp proxy --transport
 * http` on a free port, posts JSON-RPC bodies as they are written (byte for byte, so tests can send
 * frames no SDK would), and stops the front when the work is done.
 */
import { spawn } from 'node:child_process';
import { cliPath } from './cli.js';

export interface RawHttpFront {
  /**
   * POSTs one body (with extra headers, if given); the answers are the SSE events that carry an id
   * (notifications left out), `messages` every event, or the JSON body of a refusal.
   */
  post(
    body: string,
    session?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; session?: string; answers: Array<Record<string, any>>; messages: Array<Record<string, any>> }>;
  /** The front's stderr so far. */
  stderr(): string;
  /** The endpoint, `http://127.0.0.1:PORT/mcp`, for SDK clients. */
  url: string;
  /** `initialize`, and the session id it gave. */
  initialize(): Promise<string | undefined>;
}

const INITIALIZE =
  '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}';

export async function withHttpFront(config: string, home: string, work: (front: RawHttpFront) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, [cliPath, 'mcp', 'proxy', '--config', config, '--transport', 'http', '--port', '0'], {
    env: { ...process.env, RATRI_HOME: home },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  try {
    const deadline = Date.now() + 15_000;
    while (!/127\.0\.0\.1:\d+\/mcp/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const url = `http://127.0.0.1:${/127\.0\.0\.1:(\d+)\/mcp/.exec(stderr)?.[1]}/mcp`;
    const post: RawHttpFront['post'] = async (body, session, extra = {}) => {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...extra,
      };
      if (session) headers['mcp-session-id'] = session;
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(8000) });
      const text = await res.text();
      const events = res.headers.get('content-type')?.startsWith('application/json')
        ? [JSON.parse(text) as Record<string, any>]
        : text
            .split('\n')
            .filter((l) => l.startsWith('data: ') && l.length > 6)
            .map((l) => JSON.parse(l.slice(6)) as Record<string, any>);
      const answers = events.filter((m) => 'id' in m);
      return { status: res.status, session: res.headers.get('mcp-session-id') ?? undefined, answers, messages: events };
    };
    await work({ post, initialize: async () => (await post(INITIALIZE)).session, stderr: () => stderr, url });
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
}
