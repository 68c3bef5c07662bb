/**
 * The control-plane HTTP API (docs/api.md) over a `ServedPlane` (SQLite or PostgreSQL, served-plane.ts): what `ratri serve` runs, so
 * proxies on many machines share one set of rules, approvals and events. Plain `node:http`; routes
 * are one table; every error is `{ error: "plain sentence" }`. Keys have roles: a proxy key cannot
 * resolve approvals, an approver key can; a key of the keys file acts only for its agents
 * (key-ring.ts, agent-scope.ts). Without any key (loopback only) every request must come from this
 * machine and not from a web page (lib/net/loopback.ts).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readRequestBody } from '../net/http-body.js';
import { crossSiteProblem, foreignHost, isJsonContentType } from '../net/loopback.js';
import type { ToolDefinition } from '../policy/tool-catalog.js';
import { stderrLine } from '../report/visible-text.js';
import type { RatriEvent } from '../telemetry/event.js';
import { makeRedactor } from '../telemetry/redact.js';
import { actFor, agentsToRead, ScopeRefusal, visible } from './agent-scope.js';
import { type EvaluateBody, MAX_BODY_BYTES, severity } from './api-protocol.js';
import { type BodySchema, BodyValidator } from './api-validate.js';
import { newApprovalFor } from './approval-store.js';
import type { ApprovalRecord, ApprovalScope, ApprovalStatus, GuardAnswer } from './control-plane.js';
import { eventQueryOf, nextCursorOf } from './event-query-params.js';
import { ANYONE_HERE, type Caller, type KeyRing } from './key-ring.js';
import type { ServedPlane } from './served-plane.js';

/** What the server serves, and how. */
export interface ApiServerOptions {
  plane: ServedPlane;
  /** The keys it accepts. None at all (no keys file either): no key is asked (loopback only, see `ratri serve`). */
  keys: KeyRing;
  /** Redacted from the arguments of approvals the server creates, besides the keys each request names. */
  redactKeys?: string[];
  /** Larger bodies are answered 413. */
  maxBodyBytes?: number;
  /** Where unexpected failures are reported. */
  log?: (message: string) => void;
  /** Told of every request once its answer is sent (so it never delays one): the OpenTelemetry export (api-telemetry.ts). */
  onAnswered?: (answered: AnsweredRequest) => void;
}

/** What is learnt of a request while it is handled: who sent it, and what `onAnswered` is told. */
type Seen = Partial<AnsweredRequest> & { caller?: Caller };

/** A request the server answered, as `onAnswered` is told of it. */
export interface AnsweredRequest {
  req: IncomingMessage;
  /** The status sent. */
  status: number;
  startMs: number;
  endMs: number;
  /** The body, when the route reads one and it passed its schema. */
  body?: unknown;
  /** The route's answer, when it gave one (not an error). */
  reply?: Reply;
}

/** An answer that is not a success. */
class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A route's answer. */
export interface Reply {
  status: number;
  body: unknown;
}

interface RouteInput {
  params: string[];
  body: unknown;
  query: URLSearchParams;
  /** Who sent it, by its key. */
  caller: Caller;
}

interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  /** Only an approver key may use this route. */
  approverOnly?: boolean;
  /** The body's schema; routes without one read no body. */
  schema?: BodySchema;
  handle(input: RouteInput): Reply | Promise<Reply>;
}

const STATUSES: ApprovalStatus[] = ['pending', 'approved', 'rejected', 'expired'];
/** The longest `GET /v1/approvals/{id}?waitMs=` holds its answer (below the clients' request timeout). */
const MAX_WAIT_MS = 5_000;
/** A body over the limit is still read (and thrown away) up to this much, so the client can read its 413; then we hang up. */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
/** A body must have come within this long (408 otherwise): long enough for 8 MiB over a slow link, short enough that a stalled client lets go. */
const BODY_TIMEOUT_MS = 30_000;

/** Creates the server (not yet listening). */
export function createApiServer(options: ApiServerOptions): Server {
  const validator = new BodyValidator();
  const routes = makeRoutes(options);
  const { keys } = options;
  const log = options.log ?? ((m: string) => process.stderr.write(stderrLine('ratri serve', m)));
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES;

  const handle = async (req: IncomingMessage, res: ServerResponse, sender: Seen): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://ratri');
    const path = url.pathname;
    if (!keys.required) checkFromThisMachine(req, server);
    const caller = path.startsWith('/v1/') && keys.required ? callerOf(req.headers.authorization, keys) : ANYONE_HERE;
    sender.caller = caller;
    const candidates = routes.filter((r) => r.path.test(path));
    if (candidates.length === 0) throw new HttpProblem(404, `there is no ${path} here (docs/api.md lists the routes)`);
    const route = candidates.find((r) => r.method === req.method);
    if (!route) {
      const allow = [...new Set(candidates.map((r) => r.method))].join(', ');
      throw new HttpProblem(405, `${req.method} is not allowed on ${path}; use ${allow}`, { allow });
    }
    if (route.approverOnly && caller.role !== 'approver') {
      throw new HttpProblem(
        403,
        'resolving approvals needs the approver key (the key given to ratri serve with --approver-key-env, default RATRI_APPROVER_KEY, or an approver key of its keys file); this is a proxy key',
      );
    }
    let params: string[];
    try {
      params = route.path.exec(path)!.slice(1).map(decodeURIComponent);
    } catch {
      throw new HttpProblem(400, `the path ${path} is not correctly percent-encoded`);
    }
    let body: unknown;
    if (route.schema) {
      body = await readJson(req, limit);
      const problem = validator.problem(route.schema, body);
      if (problem) throw new HttpProblem(400, problem);
      sender.body = body;
    }
    const reply = await route.handle({ params, body, query: url.searchParams, caller });
    sender.reply = reply;
    send(res, reply.status, reply.body);
  };

  const server = createServer((req, res) => {
    const sender: Seen = { startMs: Date.now() };
    const answered = handle(req, res, sender).catch((err: unknown) => {
      if ((err instanceof ScopeRefusal && err.refused) || (err instanceof HttpProblem && (err.status === 401 || err.status === 403))) {
        log(`refused ${req.method} ${pathOf(req)} (key ${sender.caller?.label ?? 'none or unknown'}): ${err.status} ${err.message}`);
      }
      if (err instanceof ScopeRefusal) return send(res, err.status, { error: err.message });
      if (err instanceof HttpProblem) return send(res, err.status, { error: err.message, ...err.extra }, err.headers);
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        return send(res, 503, { error: 'the store is busy with another writer; try again' }, { 'retry-after': '1' });
      }
      log(`${req.method} ${req.url} failed: ${(err as Error).stack ?? String(err)}`);
      send(res, 500, { error: `the server failed: ${(err as Error).message}` });
    });
    const tell = options.onAnswered;
    if (tell) void answered.then(() => tell({ ...sender, req, status: res.statusCode, startMs: sender.startMs!, endMs: Date.now() }));
  });
  // Longer than the clients' idle sockets live (15 s), so a proxy never sends on a socket being closed.
  server.keepAliveTimeout = 30_000;
  return server;
}

/** Who sent the key; 401 when none or an unknown one is sent. */
function callerOf(header: string | undefined, keys: KeyRing): Caller {
  const challenge = { 'www-authenticate': 'Bearer realm="ratri"' };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) {
    throw new HttpProblem(
      401,
      'this API needs a key: send "Authorization: Bearer <key>" (a proxy reads it from the environment variable named by api.keyEnv, default RATRI_API_KEY)',
      challenge,
    );
  }
  const caller = keys.callerOf(match[1]!);
  if (!caller) throw new HttpProblem(401, 'the API key is not valid', challenge);
  return caller;
}

/**
 * Without a key anything that reaches the port may use the API, so it must be a program on this
 * machine and not a web page the user's browser shows: `Host` must name this machine (DNS
 * rebinding), the request must not come from another site, and a POST must say it sends JSON (a
 * cross-site form or `text/plain` fetch cannot).
 */
function checkFromThisMachine(req: IncomingMessage, server: Server): void {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const foreign = foreignHost(req.headers.host, port);
  if (foreign) throw new HttpProblem(421, foreign);
  const crossSite = crossSiteProblem(req, { origins: 'loopback' });
  if (crossSite) throw new HttpProblem(403, `${crossSite}: without a key this API answers only programs on this machine`);
  if (req.method === 'POST' && !isJsonContentType(req)) {
    throw new HttpProblem(415, 'send the body with "Content-Type: application/json"');
  }
}

/** The request's path, without its query (which is not the logs' business). */
const pathOf = (req: IncomingMessage): string => (req.url ?? '/').split('?')[0]!;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Reads and parses a JSON body of at most `limit` bytes. */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const read = await readRequestBody(req, { limit, hangUpAboveBytes: DISCARD_LIMIT_BYTES, timeoutMs: BODY_TIMEOUT_MS });
  if (read.kind === 'too-large') throw new HttpProblem(413, `the request body is larger than ${limit} bytes; send smaller batches`);
  if (read.kind === 'timeout')
    throw new HttpProblem(408, `the request body did not arrive within ${read.timeoutMs} ms`, { connection: 'close' });
  if (read.kind === 'aborted') throw new Error(`reading the request body: ${read.reason}`);
  try {
    return JSON.parse(read.body.toString('utf8'));
  } catch (err) {
    throw new HttpProblem(400, `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Who resolved an approval, as recorded: the name the request gives, and the id of a keys-file key that sent it. */
function recordedResolver(named: string | undefined, caller: Caller): string {
  if (!caller.fileId) return named ?? 'api';
  return named ? `${named} (key ${caller.fileId})` : `key ${caller.fileId}`;
}

function makeRoutes({ plane, redactKeys = [] }: ApiServerOptions): Route[] {
  /** The approval, if there is one the caller may see (404 otherwise). */
  const approvalOr404 = async (id: string, caller: Caller): Promise<ApprovalRecord> =>
    visible(caller, await plane.approvals.get(id), `approval ${id}`);

  /**
   * `?waitMs=N` (at most MAX_WAIT_MS): a pending approval is answered when it changes or after N ms,
   * on a store that says when it changes (PostgreSQL LISTEN/NOTIFY); at once on any other.
   */
  const approvalAfterWait = async (id: string, waitMs: string | null, caller: Caller): Promise<ApprovalRecord> => {
    const approval = await approvalOr404(id, caller);
    const ms = Math.min(Number(waitMs) || 0, MAX_WAIT_MS, Date.parse(approval.expiresAt) - Date.now());
    if (approval.status !== 'pending' || ms <= 0 || !plane.changed) return approval;
    await plane.changed(id, ms);
    return approvalOr404(id, caller);
  };

  /** The server's rules decide; a stricter verdict of the proxy's own rules wins (api-protocol.ts). */
  const evaluate = async (request: EvaluateBody): Promise<GuardAnswer> => {
    const answer = await plane.evaluateNow(request);
    const floor = request.localDecision;
    if (!floor || severity(floor.decision) <= severity(answer.decision)) return answer;
    const stricter: GuardAnswer = {
      decision: floor.decision,
      ruleId: floor.ruleId ?? null,
      reason: floor.reason ?? "the proxy's own rules",
    };
    if (floor.decision === 'require_approval' && request.mode !== 'monitor') {
      const granted = await plane.granted(request, {
        decision: 'require_approval',
        ruleId: stricter.ruleId ?? null,
        reason: stricter.reason ?? '',
      });
      if (granted) return granted;
      const redact = makeRedactor([...redactKeys, ...(request.redactKeys ?? [])], { truncate: false });
      const args = redact(await plane.approvalArgumentsOf(request)) as Record<string, unknown>;
      try {
        const heldBy = { ruleId: stricter.ruleId ?? null, reason: stricter.reason ?? null };
        stricter.approvalId = (await plane.approvals.create(newApprovalFor(request, heldBy, args))).id;
      } catch (err) {
        stricter.unavailable = (err as Error).message; // without an approval the proxy refuses the call (-32002)
      }
    }
    return stricter;
  };

  return [
    { method: 'GET', path: /^\/healthz$/, handle: () => ({ status: 200, body: { ok: true } }) },
    {
      method: 'POST',
      path: /^\/v1\/guard\/evaluate$/,
      schema: 'guard-evaluate.json',
      handle: async ({ body, caller }) => {
        actFor(caller, (body as EvaluateBody).agentKey, 'agentKey');
        return { status: 200, body: await evaluate(body as EvaluateBody) };
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/events$/,
      schema: 'events.json',
      handle: async ({ body, caller }) => {
        const { events } = body as { events: RatriEvent[] };
        events.forEach((event, i) => actFor(caller, event.agentKey, `events[${i}].agentKey`));
        return { status: 202, body: { accepted: await plane.eventStore.insert(events) } };
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/events$/,
      handle: async ({ query, caller }) => {
        const q = eventQueryOf(query);
        if (typeof q === 'string') throw new HttpProblem(400, q);
        const events = await plane.eventStore.query({ ...q, agents: agentsToRead(caller, query.get('agentKey')) });
        return { status: 200, body: { events, nextCursor: nextCursorOf(events, q.limit!) } };
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/tools$/,
      handle: async ({ query, caller }) => {
        const unknown = [...query.keys()].find((name) => name !== 'agentKey');
        if (unknown) throw new HttpProblem(400, `${unknown}: not a parameter of GET /v1/tools; use agentKey`);
        return { status: 200, body: { tools: await plane.tools.list(agentsToRead(caller, query.get('agentKey'))) } };
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/tools\/define$/,
      schema: 'tools-define.json',
      handle: async ({ body, caller }) => {
        const { agentKey, serverName, tools } = body as { agentKey: string; serverName: string; tools: ToolDefinition[] };
        actFor(caller, agentKey, 'agentKey');
        return { status: 200, body: await plane.tools.define(agentKey, serverName, tools) };
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/approvals$/,
      handle: async ({ query, caller }) => {
        const status = query.get('status') ?? undefined;
        if (status !== undefined && !STATUSES.includes(status as ApprovalStatus)) {
          throw new HttpProblem(400, `status: must be one of ${STATUSES.join(', ')}`);
        }
        const agents = agentsToRead(caller, query.get('agentKey'));
        return { status: 200, body: { approvals: await plane.approvals.list(status as ApprovalStatus | undefined, undefined, agents) } };
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/approvals\/([^/]+)$/,
      handle: async ({ params, query, caller }) => ({
        status: 200,
        body: await approvalAfterWait(params[0]!, query.get('waitMs'), caller),
      }),
    },
    {
      method: 'POST',
      path: /^\/v1\/approvals\/([^/]+)\/resolve$/,
      approverOnly: true,
      schema: 'approval-resolve.json',
      handle: async ({ params, body, caller }) => {
        const id = params[0]!;
        const { approve, scope, resolvedBy, argsMatch } = body as {
          approve: boolean;
          scope?: ApprovalScope;
          resolvedBy?: string;
          argsMatch?: boolean;
        };
        await approvalOr404(id, caller);
        const by = recordedResolver(resolvedBy, caller);
        const result = await plane.resolveApprovalNow(id, approve, scope ?? 'once', by, { argsMatch });
        if (!result) throw new HttpProblem(404, `there is no approval ${id}`);
        if (!result.changed) {
          const { status, resolvedBy: by } = result.approval;
          const why = status === 'expired' ? `approval ${id} has expired` : `approval ${id} was already ${status}${by ? ` by ${by}` : ''}`;
          throw new HttpProblem(409, `${why}; it can no longer be changed`, {}, { approval: result.approval, changed: false });
        }
        return { status: 200, body: result };
      },
    },
    {
      // The proxy that held the call stopped waiting (the host cancelled it, went away, or its time ran
      // out): with a grant window the approval stays pending, marked host-gone, so approving it makes a
      // once grant; without one it is expired. No body. A decided approval stays as it was (200 either way).
      method: 'POST',
      path: /^\/v1\/approvals\/([^/]+)\/expire$/,
      handle: async ({ params, caller }) => {
        const id = params[0]!;
        const before = (await approvalOr404(id, caller)).status;
        await plane.approvals.leave(id);
        const approval = await approvalOr404(id, caller);
        return {
          status: 200,
          body: { approval, changed: before === 'pending' && (approval.status === 'expired' || !!approval.hostGoneAt) },
        };
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/grants$/,
      handle: async ({ query, caller }) => {
        const agents = agentsToRead(caller, query.get('agentKey'));
        return { status: 200, body: { grants: await plane.grants.list(query.get('all') === 'true', undefined, agents) } };
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/grants\/([^/]+)\/revoke$/,
      approverOnly: true,
      handle: async ({ params, caller }) => {
        visible(caller, await plane.grants.get(params[0]!), `grant ${params[0]!}`);
        const result = await plane.grants.revoke(params[0]!);
        if (!result) throw new HttpProblem(404, `there is no grant ${params[0]!}`);
        return { status: 200, body: result };
      },
    },
  ];
}
