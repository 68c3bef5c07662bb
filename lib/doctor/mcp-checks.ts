/**
 * Checks 3 and 4: an MCP session with the upstream, as a host would open one. JSON-RPC is spoken
 * by ratri's one line client (lib/jsonrpc-client/line-client.ts), which splits the upstream's
 * stdout with the proxy's own FrameReader, so the doctor sees its bytes as the proxy would. Every wait is
 * bounded by the timeout, and also ends when the upstream exits, so a dead server is reported at
 * once rather than after the timeout.
 */
import { LineRpcClient, type RpcAnswer, type RpcError } from '../jsonrpc-client/line-client.js';
import { settlesWithin } from '../node/deadline.js';
import type { ToolDefinition } from '../policy/tool-catalog.js';
import { toolsFromListResult } from '../policy/tool-catalog.js';
import { visibleText } from '../report/visible-text.js';
import type { UpstreamProcess } from '../session/upstream-process.js';
import { type CheckResult, failed, passed, warned } from './check-result.js';
import { describeExit } from './upstream-child.js';

/** The MCP revision the doctor asks for. */
export const PROTOCOL_VERSION = '2025-06-18';
/** A server that keeps handing out cursors is cut off here. */
const MAX_PAGES = 100;

/** An open session: the connection and what went wrong on it that is not an answer. */
export interface McpSession {
  client: LineRpcClient;
  child: UpstreamProcess;
  /** Lines on the upstream's stdout that are not JSON-RPC messages. */
  strayLines: string[];
  close(): void;
}

type Outcome<T> =
  | { kind: 'answer'; value: T }
  | { kind: 'error'; error: RpcError | { message: string } }
  | { kind: 'timeout' }
  | { kind: 'exit' }
  | { kind: 'aborted' };

/** What a request's answer says, as an outcome; a stream that closed is explained by the exit when one follows. */
async function answerOutcome<T>(a: RpcAnswer, session: McpSession): Promise<Outcome<T>> {
  if (a.failure?.kind === 'timeout') return { kind: 'timeout' };
  // A server that dies at once closes its stdout before its exit is seen; the exit, with its
  // stderr, is the better explanation, so give it a moment to arrive.
  if (a.failure) return (await settlesWithin(session.child.exited, 1000)) ? { kind: 'exit' } : { kind: 'error', error: a.failure };
  if (a.error) return { kind: 'error', error: a.error };
  return { kind: 'answer', value: (a.result ?? {}) as T };
}

/** Sends a request and waits for its answer, the timeout, the upstream's exit, or the abort signal, whichever is first. */
async function outcome<T>(
  method: string,
  params: Record<string, unknown> | undefined,
  session: McpSession,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Outcome<T>> {
  let onAbort: (() => void) | undefined;
  const races: Array<Promise<Outcome<T>>> = [
    session.client.request(method, params, timeoutMs).answer.then((a) => answerOutcome<T>(a, session)),
    session.child.exited.then((): Outcome<T> => ({ kind: 'exit' })),
  ];
  if (signal) races.push(new Promise((r) => signal.addEventListener('abort', (onAbort = () => r({ kind: 'aborted' })), { once: true })));
  try {
    return await Promise.race(races);
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Thrown when Ctrl-C ends the run: the caller stops the upstream and reports what it has. */
export class DoctorAborted extends Error {}

/** Opens a JSON-RPC client over the child's stdio. */
export function openSession(child: UpstreamProcess, maxFrameBytes: number): McpSession {
  const strayLines: string[] = [];
  const client = new LineRpcClient(child.stdout, child.stdin, { maxFrameBytes, onStray: (line) => strayLines.push(line) });
  return { client, child, strayLines, close: () => client.close() };
}

/** What the upstream's last stderr lines say, for a ✗ detail. */
function stderrNote(child: UpstreamProcess): string[] {
  const lines = child.stderrLines();
  return lines.length > 0 ? ['its stderr ended with:', ...lines.map((l) => `  ${visibleText(l)}`)] : [];
}

function strayNote(session: McpSession): string {
  const first = session.strayLines[0];
  return first === undefined
    ? ''
    : `; it wrote ${session.strayLines.length} line(s) to stdout that are not JSON-RPC, first: "${first.slice(0, 80)}"`;
}

/** A request that got no answer: one ✗ for each way that can happen. */
function unanswered(
  id: 'initialize' | 'tools',
  what: string,
  o: Outcome<unknown>,
  session: McpSession,
  timeoutMs: number,
  server: string,
): CheckResult {
  if (o.kind === 'aborted') throw new DoctorAborted('interrupted');
  const lines = stderrNote(session.child);
  if (o.kind === 'exit') {
    const exit = session.child.exit;
    return failed(
      id,
      `the upstream ${exit ? describeExit(exit) : 'exited'} before answering ${what}${strayNote(session)}`,
      'run the upstream command by hand to see why it stops (a wrong path in upstream.args? a missing "stdio" argument?)',
      { server, lines },
    );
  }
  if (o.kind === 'timeout') {
    const fix =
      session.strayLines.length > 0
        ? 'the server must write only JSON-RPC to stdout (logs go to stderr); check its options for a stdio mode'
        : `check that upstream.command starts an MCP server on stdio (some need an argument such as "stdio"); if it is only slow (npx downloading), raise --timeout`;
    return failed(id, `no answer to ${what} within ${timeoutMs} ms${strayNote(session)}`, fix, { server, lines });
  }
  const err = (o as { error: RpcError | { message: string } }).error;
  const said = 'code' in err ? `${err.code} ${err.message}` : err.message;
  return failed(
    id,
    `the upstream answered ${what} with an error: ${said}`,
    "check the server's own documentation: it refused a standard MCP request",
    { server, lines },
  );
}

function describeCapabilities(capabilities: Record<string, unknown>): string {
  const names = Object.entries(capabilities).map(([name, value]) => {
    const flags =
      value && typeof value === 'object' ? Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] === true) : [];
    return flags.length > 0 ? `${name} (${flags.join(', ')})` : name;
  });
  return names.length > 0 ? names.join(', ') : 'none';
}

interface InitializeResult {
  protocolVersion?: unknown;
  serverInfo?: { name?: unknown; version?: unknown };
  capabilities?: Record<string, unknown>;
}

/** Check 3: `initialize`, then `notifications/initialized`. */
export async function checkInitialize(
  session: McpSession,
  version: string,
  timeoutMs: number,
  server: string,
  signal?: AbortSignal,
): Promise<{ result: CheckResult; hasTools: boolean }> {
  const params = { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'ratri-doctor', version } };
  const o = await outcome<InitializeResult>('initialize', params, session, timeoutMs, signal);
  if (o.kind !== 'answer') return { result: unanswered('initialize', 'initialize', o, session, timeoutMs, server), hasTools: false };
  const r = o.value;
  if (!r || typeof r !== 'object' || typeof r.protocolVersion !== 'string') {
    return {
      result: failed(
        'initialize',
        'the answer to initialize has no protocolVersion: this is not an MCP server',
        'check upstream.command and upstream.args: they must start an MCP server',
        { server },
      ),
      hasTools: false,
    };
  }
  session.client.notify('notifications/initialized');
  const capabilities = r.capabilities && typeof r.capabilities === 'object' ? r.capabilities : {};
  const name = typeof r.serverInfo?.name === 'string' ? r.serverInfo.name : '(no name)';
  const serverVersion = typeof r.serverInfo?.version === 'string' ? ` ${r.serverInfo.version}` : '';
  const asked = r.protocolVersion === PROTOCOL_VERSION ? '' : ` (asked for ${PROTOCOL_VERSION})`;
  const detail = `${name}${serverVersion}, protocol ${r.protocolVersion}${asked}; capabilities: ${describeCapabilities(capabilities)}`;
  const data = { protocolVersion: r.protocolVersion, serverInfo: r.serverInfo ?? null, capabilities };
  const hasTools = 'tools' in capabilities;
  if (session.strayLines.length > 0) {
    return {
      result: warned(
        'initialize',
        `${detail}${strayNote(session)}`,
        'make the server log to stderr, never stdout: hosts may drop a connection that carries other lines',
        { server, data },
      ),
      hasTools,
    };
  }
  if (!hasTools)
    return {
      result: warned('initialize', `${detail}; no "tools" capability, so there are no tool calls for ratri to guard`, null, {
        server,
        data,
      }),
      hasTools,
    };
  return { result: passed('initialize', detail, { server, data }), hasTools };
}

/** "read-only", "destructive", … for one tool's annotations. */
export function hintLabels(tool: ToolDefinition): string[] {
  const a = tool.annotations ?? {};
  const labels: string[] = [];
  if (a.readOnlyHint === true) labels.push('read-only');
  if (a.destructiveHint === true && a.readOnlyHint !== true) labels.push('destructive');
  if (a.openWorldHint === true) labels.push('open-world');
  return labels;
}

/** Tool names with their hints, wrapped to lines of about `width` characters. */
function nameLines(tools: ToolDefinition[], width = 96): string[] {
  const lines: string[] = [];
  let line = '';
  for (const tool of tools) {
    const labels = hintLabels(tool);
    const item = labels.length > 0 ? `${tool.name} (${labels.join(', ')})` : tool.name;
    if (line && line.length + item.length + 2 > width) {
      lines.push(`${line},`);
      line = '';
    }
    line = line ? `${line}, ${item}` : item;
  }
  return (line ? [...lines, line] : lines).map(visibleText);
}

/** Check 4: `tools/list`, following `nextCursor` to the last page. */
export async function checkTools(
  session: McpSession,
  timeoutMs: number,
  server: string,
  signal?: AbortSignal,
): Promise<{ result: CheckResult; tools?: ToolDefinition[] }> {
  const tools: ToolDefinition[] = [];
  let malformed = 0;
  let cursor: string | undefined;
  let pages = 0;
  do {
    type Page = { tools?: unknown; nextCursor?: unknown };
    const o = await outcome<Page>('tools/list', cursor === undefined ? undefined : { cursor }, session, timeoutMs, signal);
    if (o.kind !== 'answer')
      return { result: unanswered('tools', `tools/list${pages > 0 ? ` (page ${pages + 1})` : ''}`, o, session, timeoutMs, server) };
    const page = toolsFromListResult(o.value);
    if (!page)
      return {
        result: failed(
          'tools',
          'the answer to tools/list has no "tools" array',
          'this server does not follow MCP for tools/list; ratri cannot see its tools',
          { server },
        ),
      };
    malformed += (o.value as { tools: unknown[] }).tools.length - page.length;
    tools.push(...page);
    pages++;
    cursor = typeof o.value.nextCursor === 'string' && o.value.nextCursor !== '' ? o.value.nextCursor : undefined;
  } while (cursor !== undefined && pages < MAX_PAGES);
  const readOnly = tools.filter((t) => t.annotations?.readOnlyHint === true).length;
  const destructive = tools.filter((t) => hintLabels(t).includes('destructive')).length;
  const bare = tools.filter((t) => !t.annotations || Object.keys(t.annotations).length === 0).length;
  const detail = `${tools.length} tool${tools.length === 1 ? '' : 's'}${pages > 1 ? ` on ${pages} pages` : ''}: ${readOnly} read-only, ${destructive} destructive, ${bare} without annotations`;
  const data = {
    count: tools.length,
    pages,
    names: tools.map((t) => t.name),
    annotations: Object.fromEntries(tools.map((t) => [t.name, t.annotations ?? null])),
  };
  const extra = { server, lines: nameLines(tools), data };
  const names = tools.map((t) => t.name);
  const duplicates = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  if (cursor !== undefined)
    return {
      result: warned('tools', `${detail}; stopped after ${MAX_PAGES} pages (the server keeps sending nextCursor)`, null, extra),
      tools,
    };
  if (malformed > 0)
    return {
      result: warned(
        'tools',
        `${detail}; ${malformed} entr${malformed === 1 ? 'y has' : 'ies have'} no name and cannot be called`,
        null,
        extra,
      ),
      tools,
    };
  if (duplicates.length > 0)
    return {
      result: warned(
        'tools',
        `${detail}; listed more than once: ${duplicates.join(', ')}`,
        'rules and annotations apply per name: the last definition wins',
        extra,
      ),
      tools,
    };
  if (tools.length === 0)
    return {
      result: warned('tools', 'the server lists no tools: there are no tool calls for ratri to guard', null, { server, data }),
      tools,
    };
  return { result: passed('tools', detail, extra), tools };
}
