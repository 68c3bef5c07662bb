/**
 * The remote control plane: a Ratri-compatible HTTP API (docs/api.md), such as
 * `ratri serve`. The only file that knows about `got`. Guard evaluations are never retried (the
 * deadline and guardFailureMode of `evaluateWithDeadline` decide when the API is slow or away);
 * idempotent calls are retried with backoff; events that cannot be uploaded wait in the on-disk
 * outbox of the local store (outbox.ts).
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Got } from 'got';
import { ConfigError } from '../config/load-config.js';
import { apiKeyEnv, type ProxyConfig } from '../config/types.js';
import { argumentTexts } from '../policy/content-matcher.js';
import { unavailable } from '../policy/policy-hook.js';
import { evaluateRules, lookupsNeeded, type RuleDecision } from '../policy/rules.js';
import { stderrLine } from '../report/visible-text.js';
import { secretFinder } from '../secrets/find-secrets.js';
import { findValueSecrets, type JsonSecrets } from '../secrets/json-secrets.js';
import type { RatriEvent } from '../telemetry/event.js';
import { ApiPath, DECISIONS, type EvaluateBody, moreRestrictive } from './api-protocol.js';
import { type ApprovalOutcome, waitForApproval } from './approval-wait.js';
import type {
  ApprovalRecord,
  ApprovalScope,
  ApprovalStatus,
  ControlPlane,
  DefineToolsAnswer,
  DefineToolsRequest,
  GrantRecord,
  GuardAnswer,
  GuardRequest,
  ResolveOptions,
  ResolveResult,
  RevokeResult,
} from './control-plane.js';
import type { EventQuery, StoredEvent } from './event-query.js';
import { EVENTS_MAX_LIMIT, type EventsPage, eventQueryParams } from './event-query-params.js';
import { Outbox, OutboxSink, type UploadResult } from './outbox.js';
import { type Db, openMemoryStore, openStore } from './store.js';
import type { RegisteredTool } from './tool-registry.js';

/** How often a waiting proxy asks the API about its approval. */
const POLL_MS = 200;
/** How long the server may hold that question while the approval stays pending (well below REQUEST_TIMEOUT_MS). */
const LONG_POLL_MS = 1_000;
/** The timeout of one request other than a guard evaluation. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Delays before the retries of an idempotent request. */
const RETRY_DELAYS_MS = [250, 1_000];
/** Idle keep-alive sockets are closed well before a server or load balancer would close them under us. */
const IDLE_SOCKET_MS = 15_000;

/** A request the API did not answer (refused, reset, timed out). */
export class ApiUnreachableError extends Error {}

/** An answer that is not a success. */
export class ApiAnswerError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

interface Answer {
  status: number;
  body: unknown;
}

function stderrLog(message: string): void {
  process.stderr.write(stderrLine('ratri', message));
}

const ok = (status: number): boolean => status >= 200 && status < 300;
const retriable = (status: number): boolean => status === 408 || status === 429 || status >= 500;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** The W3C `traceparent` header of a call's question (docs/opentelemetry.md#across-the-control-plane), when it has one. */
const traceHeader = (traceparent: string | undefined): Record<string, string> => (traceparent ? { traceparent } : {});

/** A URL as messages show it: a user or password written in it is hidden. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '***';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * The API's key from the variable `api.keyEnv` names; undefined when the config says the API takes
 * none (`"keyEnv": null`). An unset or empty variable is a ConfigError naming it: a proxy must not
 * start with a control plane that will refuse every question (docs/config.md).
 */
function apiKey(config: ProxyConfig): string | undefined {
  const name = apiKeyEnv(config.api!);
  if (name === null) return undefined;
  const key = process.env[name];
  if (key) return key;
  throw new ConfigError(config.source, [
    `api.keyEnv: the environment variable ${name} is ${key === undefined ? 'not set' : 'empty'}; set it to the key of ${shownUrl(config.api!.url)} ` +
      'where the proxy runs (the key never goes in the config), or set "keyEnv": null if that API takes no key',
  ]);
}

/** A `ControlPlane` that is a remote API; its events wait in the local store's outbox while the API is away. */
export class HttpControlPlane implements ControlPlane {
  readonly kind = 'http';
  readonly events: OutboxSink;
  /** `got` is imported when the control plane opens, not when ratri starts: most proxies use the embedded store. */
  private readonly client: Promise<Got>;
  private readonly agents = {
    http: new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    https: new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };
  private readonly outbox: Outbox;
  /**
   * The header resolving an approval sends: the approver key's, when one was given (a proxy key gets
   * 403 there); reading events and tools sends it too (`ratri events --approver-key-env`).
   */
  private readonly resolveHeaders: Record<string, string>;
  /** Calls the config's own rules said need approval, while the API is asked to create it. */
  private readonly asking = new WeakMap<GuardRequest, RuleDecision>();

  /** The API's URL (for messages, without any credentials written in it). */
  readonly location: string;

  private constructor(
    url: string,
    private readonly config: ProxyConfig,
    private readonly db: Db,
    private readonly log: (message: string) => void,
    approverKey?: string,
  ) {
    this.location = shownUrl(url);
    this.resolveHeaders = approverKey ? { authorization: `Bearer ${approverKey}` } : {};
    const key = apiKey(config);
    this.client = import('got').then(({ default: got }) =>
      got.extend({
        prefixUrl: url,
        agent: this.agents,
        headers: key ? { authorization: `Bearer ${key}` } : {},
        throwHttpErrors: false, // every status is looked at here
        retry: { limit: 0 }, // retries are ours, and only for idempotent calls
        responseType: 'text',
      }),
    );
    this.outbox = new Outbox(db);
    this.events = new OutboxSink(this.outbox, (events, timeoutMs) => this.uploadEvents(events, timeoutMs), log, config.store);
  }

  /**
   * The API named by `config.api`, with its outbox in the store at `config.store` (throws StoreError
   * when the store cannot be opened). The key is read from the environment variable `api.keyEnv`;
   * `approverKey` (for `ratri approvals`) is sent instead when resolving approvals.
   */
  static open(
    config: ProxyConfig,
    log: (message: string) => void = stderrLog,
    approverKey?: string,
    { forCommand = false }: { forCommand?: boolean } = {},
  ): HttpControlPlane {
    if (!config.api) throw new Error('HttpControlPlane.open: the config has no "api"');
    apiKey(config); // before the store opens: a missing key is a ConfigError, nothing is left open
    // A command uploads no events of its own: its outbox is in memory, and no store file is made or touched.
    const db = forCommand ? openMemoryStore() : openStore(config.store);
    return new HttpControlPlane(config.api.url, config, db, log, approverKey);
  }

  /**
   * The config's own rules decide first (a local block needs no round trip); otherwise the API
   * decides and the stricter answer wins. Store-backed templates are left to the server, which has
   * the boundary map and the tool registry.
   */
  evaluate(request: GuardRequest): GuardAnswer | Promise<GuardAnswer> {
    // A `content.secrets` rule of the config's own needs the arguments scanned (once, at once when the prefilter finds nothing).
    if (!lookupsNeeded(this.config.guardrails).secrets) return this.evaluateScanned(request, undefined);
    const found = findValueSecrets(request.arguments, secretFinder(this.config.secrets));
    return found instanceof Promise ? found.then((f) => this.evaluateScanned(request, f)) : this.evaluateScanned(request, found);
  }

  private evaluateScanned(request: GuardRequest, found: JsonSecrets | undefined): GuardAnswer | Promise<GuardAnswer> {
    const local = evaluateRules(this.config.guardrails, {
      tool: request.tool,
      serverName: request.serverName,
      environment: request.environment,
      arguments: request.arguments,
      annotations: request.annotations ?? undefined,
      // The registry is the API's: a tool this session has not listed is unknown to the config's own rules.
      toolUnknown: request.annotations == null,
      ...(found ? { content: { texts: argumentTexts(request.arguments), secrets: found.spans } } : {}),
    });
    if (local.decision === 'block') return local;
    if (local.decision !== 'require_approval') return this.evaluateRemotely(request).then((remote) => moreRestrictive(local, remote));
    this.asking.set(request, local);
    return this.evaluateRemotely({ ...request, localDecision: local }).then((remote) => {
      // Answered after the deadline (the call was refused meanwhile): nobody waits for its approval.
      if (!this.asking.delete(request) && remote.approvalId) void this.expireApproval(remote.approvalId).catch(() => undefined);
      return moreRestrictive(local, remote);
    });
  }

  /**
   * The API failed or was late on a call the config's own rules said needs approval: no approval
   * exists that anyone could see, so the call is refused (-32002 unavailable), whatever
   * guardFailureMode says. Any other call is left to guardFailureMode.
   */
  fallback(request: GuardRequest): GuardAnswer | undefined {
    const local = this.asking.get(request);
    if (!local) return undefined;
    this.asking.delete(request);
    return unavailable(local, `the control plane at ${this.location} did not create it`);
  }

  private async evaluateRemotely({ traceparent, ...body }: EvaluateBody): Promise<GuardAnswer> {
    const sent = await this.request('POST', ApiPath.evaluate, body, this.config.guardTimeoutMs, traceHeader(traceparent));
    // The API is there and refuses this proxy's key (removed, rotated out, bound to another agent):
    // not an outage that fail_open may wave through, but a proxy nobody guards. Blocked (docs/policy.md).
    if (sent.status === 401 || sent.status === 403) {
      const keyEnv = apiKeyEnv(this.config.api!) ?? 'api.keyEnv';
      return {
        decision: 'block',
        ruleId: null,
        reason: `${this.describe(sent, 'POST', ApiPath.evaluate)}; blocked whatever guardFailureMode says. fix: give ${keyEnv} a key the control plane accepts for agent "${this.config.agentKey}"`,
      };
    }
    const answer = this.expect(sent, 'POST', ApiPath.evaluate);
    const a = answer as Partial<GuardAnswer> | null;
    if (!a || !DECISIONS.includes(a.decision as GuardAnswer['decision'])) {
      throw new ApiAnswerError(`the control plane at ${this.location} answered the guard evaluation without a valid "decision"`, 200);
    }
    const remote: GuardAnswer = { decision: a.decision!, ruleId: typeof a.ruleId === 'string' ? a.ruleId : null };
    if (typeof a.reason === 'string') remote.reason = a.reason;
    if (typeof a.approvalId === 'string') remote.approvalId = a.approvalId;
    if (typeof a.grantId === 'string') remote.grantId = a.grantId;
    return remote;
  }

  async defineTools(request: DefineToolsRequest): Promise<DefineToolsAnswer> {
    const answer = (await this.idempotent('POST', ApiPath.defineTools, request)) as Partial<DefineToolsAnswer> | null;
    return {
      registered: typeof answer?.registered === 'number' ? answer.registered : request.tools.length,
      changed: Array.isArray(answer?.changed) ? answer.changed.filter((n): n is string => typeof n === 'string') : [],
    };
  }

  awaitApproval(id: string, timeoutMs: number, signal: AbortSignal, traceparent?: string): Promise<ApprovalOutcome> {
    // A long poll: a server on PostgreSQL answers as soon as the approval changes (docs/api.md); any other at once.
    // The host's cancel ends the long poll at once (then the approval is expired).
    const headers = traceHeader(traceparent);
    const status = async (approvalId: string): Promise<ApprovalStatus | undefined> =>
      (await this.getApproval(approvalId, LONG_POLL_MS, signal, headers))?.status;
    const expire = (approvalId: string) => this.expireApproval(approvalId, headers);
    return waitForApproval({ status, expire }, id, timeoutMs, signal, POLL_MS);
  }

  /**
   * Tells the API nobody waits for this approval any more (`POST …/expire`). An API without that
   * route (404 for it) expires it when its time runs out; then this is one last read.
   */
  private async expireApproval(id: string, headers: Record<string, string> = {}): Promise<ApprovalStatus | undefined> {
    const answer = await this.request('POST', ApiPath.expire(id), undefined, REQUEST_TIMEOUT_MS, headers);
    const approval = (answer.body as { approval?: ApprovalRecord } | null)?.approval;
    if (answer.status === 200 && approval) return approval.status;
    return (await this.getApproval(id, 0, undefined, headers))?.status;
  }

  async getApproval(
    id: string,
    waitMs = 0,
    signal?: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<ApprovalRecord | undefined> {
    const path = waitMs > 0 ? `${ApiPath.approval(id)}?waitMs=${waitMs}` : ApiPath.approval(id);
    const answer = await this.request('GET', path, undefined, REQUEST_TIMEOUT_MS, headers, signal);
    if (answer.status === 404) return undefined;
    return this.expect(answer, 'GET', ApiPath.approval(id)) as ApprovalRecord;
  }

  async listApprovals(status?: ApprovalStatus): Promise<ApprovalRecord[]> {
    const path = status ? `${ApiPath.approvals}?status=${encodeURIComponent(status)}` : ApiPath.approvals;
    const answer = (await this.idempotent('GET', path)) as { approvals?: unknown } | unknown[] | null;
    // `{ approvals: [...] }` as ratri serve answers; a bare array from another implementation is read too.
    const list = Array.isArray(answer) ? answer : answer?.approvals;
    return Array.isArray(list) ? (list as ApprovalRecord[]) : [];
  }

  async resolveApproval(
    id: string,
    approve: boolean,
    scope: ApprovalScope,
    resolvedBy: string,
    options: ResolveOptions = {},
  ): Promise<ResolveResult | undefined> {
    const path = ApiPath.resolve(id);
    const resolution = { approve, scope, resolvedBy, ...(options.argsMatch ? { argsMatch: true } : {}) };
    const answer = await this.request('POST', path, resolution, REQUEST_TIMEOUT_MS, this.resolveHeaders);
    if (answer.status === 404) return undefined;
    const body = answer.body as Partial<ResolveResult> & Partial<ApprovalRecord>;
    // 409: already resolved or expired; it is left as it was, which is what `changed: false` says.
    if (answer.status === 409 && body?.approval) return { approval: body.approval, changed: false };
    this.expect(answer, 'POST', path);
    if (body?.approval) return { approval: body.approval, changed: body.changed !== false, ...(body.grant ? { grant: body.grant } : {}) };
    return { approval: body as ApprovalRecord, changed: true }; // an API that answers with the approval alone
  }

  /**
   * The events `q` matches that the key may read (`GET /v1/events`), oldest first: the newest
   * `q.limit` (default 1000), read a page of at most EVENTS_MAX_LIMIT at a time, older pages by cursor.
   */
  async queryEvents(q: EventQuery): Promise<StoredEvent[]> {
    let wanted = q.limit ?? 1000;
    let pages: StoredEvent[] = [];
    let cursor = q.beforeSeq;
    while (wanted > 0) {
      const params = eventQueryParams({ ...q, limit: Math.min(wanted, EVENTS_MAX_LIMIT), beforeSeq: cursor });
      const page = (await this.idempotent('GET', `${ApiPath.events}?${params}`, undefined, this.resolveHeaders)) as Partial<
        EventsPage<StoredEvent>
      > | null;
      const events = Array.isArray(page?.events) ? page.events : [];
      pages = events.concat(pages);
      wanted -= events.length;
      if (typeof page?.nextCursor !== 'string' || events.length === 0) break;
      cursor = Number(page.nextCursor);
    }
    return pages;
  }

  /** The tool registry as the key may read it (`GET /v1/tools`); only `agentKey`'s when given. */
  async listTools(agentKey?: string): Promise<RegisteredTool[]> {
    const path = agentKey ? `${ApiPath.tools}?agentKey=${encodeURIComponent(agentKey)}` : ApiPath.tools;
    const answer = (await this.idempotent('GET', path, undefined, this.resolveHeaders)) as { tools?: unknown } | null;
    return Array.isArray(answer?.tools) ? (answer.tools as RegisteredTool[]) : [];
  }

  async listGrants(all = false): Promise<GrantRecord[]> {
    const answer = (await this.idempotent('GET', all ? `${ApiPath.grants}?all=true` : ApiPath.grants)) as { grants?: unknown } | null;
    return Array.isArray(answer?.grants) ? (answer.grants as GrantRecord[]) : [];
  }

  async revokeGrant(id: string): Promise<RevokeResult | undefined> {
    const path = ApiPath.revokeGrant(id);
    const answer = await this.request('POST', path, undefined, REQUEST_TIMEOUT_MS, this.resolveHeaders);
    if (answer.status === 404) return undefined;
    return this.expect(answer, 'POST', path) as RevokeResult;
  }

  /** Posts one batch of events; what could not be stored now is for the outbox to retry. */
  private async uploadEvents(events: RatriEvent[], timeoutMs: number): Promise<UploadResult> {
    let answer: Answer;
    try {
      answer = await this.request('POST', ApiPath.events, { events }, timeoutMs);
    } catch (err) {
      return { outcome: 'retry', reason: (err as Error).message };
    }
    if (ok(answer.status)) return { outcome: 'stored' };
    if (answer.status === 413 && events.length > 1) {
      // Too large as one body: halves are posted in turn (a half stored twice is dropped by event id).
      const half = Math.ceil(events.length / 2);
      const first = await this.uploadEvents(events.slice(0, half), timeoutMs);
      if (first.outcome === 'retry') return first;
      const second = await this.uploadEvents(events.slice(half), timeoutMs);
      return second.outcome === 'stored' ? first : second;
    }
    const reason = this.describe(answer, 'POST', ApiPath.events);
    return answer.status === 400 || answer.status === 413 ? { outcome: 'rejected', reason } : { outcome: 'retry', reason };
  }

  /** A request retried on network errors and 408/429/5xx (only for calls that may safely run twice). */
  private async idempotent(method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const delay = RETRY_DELAYS_MS[attempt];
      let answer: Answer;
      try {
        answer = await this.request(method, path, body, REQUEST_TIMEOUT_MS, headers);
      } catch (err) {
        if (delay === undefined) throw err;
        await sleep(delay);
        continue;
      }
      if (delay === undefined || !retriable(answer.status)) return this.expect(answer, method, path);
      await sleep(delay);
    }
  }

  /** One request; throws ApiUnreachableError when no answer came. */
  private async request(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    timeoutMs = REQUEST_TIMEOUT_MS,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Answer> {
    // A POST says it is JSON even without a body: a server without a key refuses other POSTs (docs/api.md).
    const type: Record<string, string> = method === 'POST' && body === undefined ? { 'content-type': 'application/json' } : {};
    try {
      const client = await this.client;
      const response = await client(path, {
        method,
        headers: { ...type, ...headers },
        ...(body === undefined ? {} : { json: body }),
        timeout: { request: timeoutMs },
        ...(signal ? { signal } : {}),
      });
      let parsed: unknown;
      try {
        parsed = response.body ? JSON.parse(response.body) : undefined;
      } catch {
        parsed = response.body; // a proxy's HTML error page: kept as text for the message
      }
      return { status: response.statusCode, body: parsed };
    } catch (err) {
      const e = err as Error & { code?: string };
      const why = e.code === 'ETIMEDOUT' ? `no answer within ${timeoutMs} ms` : (e.code ?? e.message);
      throw new ApiUnreachableError(`cannot reach the control plane at ${this.location}: ${why}`);
    }
  }

  /** The body of a success; otherwise throws ApiAnswerError with the server's own words. */
  private expect(answer: Answer, method: string, path: string): unknown {
    if (ok(answer.status)) return answer.body;
    throw new ApiAnswerError(this.describe(answer, method, path), answer.status);
  }

  private describe(answer: Answer, method: string, path: string): string {
    const said = (answer.body as { error?: unknown } | undefined)?.error;
    const detail = typeof said === 'string' ? said : typeof answer.body === 'string' ? answer.body.slice(0, 200) : 'no explanation';
    return `the control plane at ${this.location} answered ${answer.status} to ${method} /${path.split('?')[0]}: ${detail}`;
  }

  /**
   * Uploads what the outbox holds within `deadlineMs` and leaves the rest on disk for the next proxy
   * on this store; then closes the store and the keep-alive sockets.
   */
  async close(deadlineMs = 2000): Promise<void> {
    const left = await this.events.shutdown(deadlineMs);
    // Said once per run: when the first upload failed, the message already said what becomes of them.
    if (left > 0 && !this.events.toldOfWaitingEvents) {
      this.log(`${left} event(s) wait in the outbox of ${this.config.store}; the next ratri proxy that uses this store uploads them`);
    }
    if (this.outbox.dropped > 0) this.log(`${this.outbox.dropped} event(s) were dropped because the outbox was full`);
    if (this.db.open) this.db.close();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
