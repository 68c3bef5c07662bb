/**
 * The embedded control plane: guardrail rules from the config; events, approvals, the tool
 * registry and the boundary map in the SQLite store. It answers synchronously, so an intercepted
 * call keeps its place in the stream. `ratri serve` puts this same object behind the HTTP API.
 */
import type { GuardrailsConfig, SecretsConfig } from '../config/types.js';
import { unavailable, withApproval } from '../policy/policy-hook.js';
import { evaluateRules, lookupsNeeded, type RuleDecision } from '../policy/rules.js';
import { secretFinder } from '../secrets/find-secrets.js';
import { findValueSecrets, type JsonSecrets, redactedValue } from '../secrets/json-secrets.js';
import { makeRedactor, type Redactor } from '../telemetry/redact.js';
import { ApprovalStore, type NewApproval, newApprovalFor } from './approval-store.js';
import { type ApprovalOutcome, waitForApproval } from './approval-wait.js';
import { BoundaryMap } from './boundary-map.js';
import { callFacts } from './call-facts.js';
import { canonicalHash } from './canonical-json.js';
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
import { EventStore, StoreEventSink } from './event-store.js';
import { grantedAnswer, grantFromResolution } from './grant-rules.js';
import { GrantStore } from './grant-store.js';
import { type Db, openStore } from './store.js';
import { type RegisteredTool, ToolRegistry } from './tool-registry.js';
import { attempt, writeWithoutBlocking } from './write-without-blocking.js';

/** How often a waiting proxy reads an approval's status. */
const LOCAL_POLL_MS = 100;
/** How long a locked store may keep an approval from being created (the guard deadline usually ends it first). */
const APPROVAL_WRITE_MS = 5_000;

export class LocalControlPlane implements ControlPlane {
  readonly kind = 'local';
  readonly eventStore: EventStore;
  readonly approvals: ApprovalStore;
  readonly tools: ToolRegistry;
  readonly boundary: BoundaryMap;
  readonly grants: GrantStore;
  readonly events: StoreEventSink;
  private readonly needs;
  private readonly redactors = new Map<string, Redactor>();
  /** Calls whose approval is being written while the store is locked, with the rules' decision. */
  private readonly creating = new WeakMap<GuardRequest, RuleDecision>();

  constructor(
    readonly location: string,
    readonly db: Db,
    private readonly guardrails: GuardrailsConfig,
    /** Redacted from approval arguments in addition to the keys each request names. */
    private readonly redactKeys: string[] = [],
    /** Secrets by value (docs/secrets.md): scanned for `content.secrets` rules and redacted from approvals. */
    private readonly secrets: Required<SecretsConfig> = { redact: true, disabledRules: [] },
  ) {
    this.eventStore = new EventStore(db);
    this.approvals = new ApprovalStore(db);
    this.tools = new ToolRegistry(db);
    this.boundary = new BoundaryMap(db);
    this.grants = new GrantStore(db);
    this.events = new StoreEventSink(this.eventStore, db);
    this.needs = lookupsNeeded(guardrails);
  }

  /** Opens the store at `path` (creating it); throws StoreError with the path and the reason. */
  static open(
    path: string,
    guardrails: GuardrailsConfig = { rules: [] },
    redactKeys: string[] = [],
    secrets?: Required<SecretsConfig>,
  ): LocalControlPlane {
    return new LocalControlPlane(path, openStore(path), guardrails, redactKeys, secrets);
  }

  /** Opens the store at `path` for a command that looks at it; throws StoreError when there is none. */
  static openExisting(
    path: string,
    guardrails: GuardrailsConfig = { rules: [] },
    redactKeys: string[] = [],
    secrets?: Required<SecretsConfig>,
  ): LocalControlPlane {
    return new LocalControlPlane(path, openStore(path, { create: false }), guardrails, redactKeys, secrets);
  }

  /**
   * The proxy's question. A call that needs approval waits for its approval to be created without
   * blocking the proxy (write-without-blocking.ts); when it cannot be created, the answer says so
   * (`unavailable`) and the call is refused, whatever guardFailureMode says (docs/policy.md).
   */
  evaluate(request: GuardRequest): GuardAnswer | Promise<GuardAnswer> {
    // The arguments are scanned before the rules only when a rule reads their secrets
    // (content.secrets); otherwise only a call that is held is scanned, for its approval's redaction.
    if (!this.needs.secrets) return this.evaluateScanned(request, undefined);
    return this.afterScan(request, (found) => this.evaluateScanned(request, found));
  }

  /**
   * Runs `then` once the call's arguments are scanned for secrets (once per call, when a rule has
   * `content.secrets` or approvals are redacted by value): at once when the prefilter finds nothing.
   */
  private afterScan<T>(request: GuardRequest, then: (found: JsonSecrets | undefined) => T | Promise<T>): T | Promise<T> {
    if (!this.needs.secrets && !this.secrets.redact) return then(undefined);
    const found = findValueSecrets(request.arguments, secretFinder(this.secrets));
    return found instanceof Promise ? found.then(then) : then(found);
  }

  private evaluateScanned(request: GuardRequest, found: JsonSecrets | undefined): GuardAnswer | Promise<GuardAnswer> {
    const decision = this.decide(request, found);
    if (decision.decision !== 'require_approval' || request.mode === 'monitor') return decision;
    if (found === undefined && this.secrets.redact) return this.afterScan(request, (f) => this.hold(request, decision, f));
    return this.hold(request, decision, found);
  }

  /** Creates the approval a `require_approval` call waits for, its arguments redacted with `found`. */
  private hold(request: GuardRequest, decision: RuleDecision, found: JsonSecrets | undefined): GuardAnswer | Promise<GuardAnswer> {
    let created: ApprovalRecord | Promise<ApprovalRecord>;
    try {
      created = writeWithoutBlocking(this.db, () => this.approvals.create(this.newApproval(request, decision, found)), APPROVAL_WRITE_MS);
    } catch (err) {
      return unavailable(decision, err);
    }
    if (!(created instanceof Promise)) return withApproval(decision, created.id);
    this.creating.set(request, decision);
    return created.then(
      (approval) => {
        if (this.creating.delete(request)) return withApproval(decision, approval.id);
        this.expireQuietly(approval.id); // the call was refused meanwhile (fallback): nobody waits for this one
        return unavailable(decision, 'the approval was created too late');
      },
      (err: unknown) => {
        this.creating.delete(request);
        return unavailable(decision, err);
      },
    );
  }

  /** A call still waiting for its approval to be created when the deadline passed: refused as unavailable. */
  fallback(request: GuardRequest): GuardAnswer | undefined {
    const decision = this.creating.get(request);
    if (!decision) return undefined;
    this.creating.delete(request);
    return unavailable(decision, `the store ${this.location} is locked by another process`);
  }

  /** What `ratri serve` answers: the same decision, the approval written with the store's plain (blocking) write. */
  evaluateNow(request: GuardRequest): GuardAnswer | Promise<GuardAnswer> {
    return this.afterScan(request, (found) => {
      const decision = this.decide(request, found);
      if (decision.decision !== 'require_approval' || request.mode === 'monitor') return decision;
      try {
        return withApproval(decision, this.approvals.create(this.newApproval(request, decision, found)).id);
      } catch (err) {
        return unavailable(decision, err);
      }
    });
  }

  /** A call's arguments as an approval keeps them (for `ratri serve`, which may create one on the proxy's own rules). */
  approvalArgumentsOf(request: GuardRequest): Record<string, unknown> | Promise<Record<string, unknown>> {
    return this.afterScan(request, (found) => this.approvalArguments(request, found));
  }

  /** A call's arguments as an approval keeps them: secrets by value (when set) and `redactKeys` redacted. */
  private approvalArguments(request: GuardRequest, found: JsonSecrets | undefined): Record<string, unknown> {
    const args = found && this.secrets.redact ? redactedValue(request.arguments, found) : request.arguments;
    return this.redactorFor(request.redactKeys)(args) as Record<string, unknown>;
  }

  private expireQuietly(id: string): void {
    try {
      this.approvals.expire(id);
    } catch {
      // it expires on its own at expiresAt
    }
  }

  private newApproval(request: GuardRequest, decision: RuleDecision, found: JsonSecrets | undefined): NewApproval {
    return newApprovalFor(request, decision, this.approvalArguments(request, found));
  }

  /** The rules' decision on one call; `found`: the secrets in its arguments, when they were scanned. */
  private decide(request: GuardRequest, found?: JsonSecrets): RuleDecision {
    const { agentKey, serverName, tool } = request;
    const facts = callFacts(request, found, this.needs.secrets);
    // The store is read only for the templates that need it: plain rules cost no I/O.
    if (this.needs.boundary) facts.inBoundary = this.boundary.has(agentKey, serverName, tool);
    if (this.needs.definitions) facts.definitionChanged = this.tools.isChanged(agentKey, serverName, tool);
    // Not in this session's tools/list answers: an earlier session's, from the registry, else unknown.
    if (this.needs.annotations && request.annotations == null) {
      facts.annotations = this.tools.annotationsOf(agentKey, serverName, tool);
      facts.toolUnknown = facts.annotations === undefined;
    }
    const decision = evaluateRules(this.guardrails, facts);
    if (decision.decision !== 'require_approval' || request.mode === 'monitor') return decision;
    return this.granted(request, decision) ?? decision;
  }

  /**
   * A grant that lets this `require_approval` call pass, as an `allow` answer; undefined when none
   * does. Using up a once grant is a write, tried once without waiting for a lock (the proxy's thread
   * must not wait): a store locked by another process, or failing, grants nothing and the call is
   * held as usual.
   */
  granted(request: GuardRequest, decision: RuleDecision): (RuleDecision & { grantId: string }) | undefined {
    let grant: GrantRecord | undefined;
    try {
      grant = attempt(this.db, () =>
        this.grants.take(request.agentKey, request.serverName, request.tool, () => canonicalHash(request.arguments)),
      );
    } catch {
      return undefined;
    }
    return grant && grantedAnswer(grant, decision);
  }

  private redactorFor(keys: string[] = []): Redactor {
    const all = [...new Set([...this.redactKeys, ...keys])];
    const name = all.join('\0');
    let redactor = this.redactors.get(name);
    if (!redactor) {
      redactor = makeRedactor(all, { truncate: false }); // the approver sees every character the upstream would get
      this.redactors.set(name, redactor);
    }
    return redactor;
  }

  /** A proxy's tools/list: registered without waiting on its thread while another process holds the store. */
  defineTools(request: DefineToolsRequest): DefineToolsAnswer | Promise<DefineToolsAnswer> {
    return writeWithoutBlocking(this.db, () => this.tools.define(request.agentKey, request.serverName, request.tools));
  }

  awaitApproval(id: string, timeoutMs: number, signal: AbortSignal): Promise<ApprovalOutcome> {
    // Polls are reads (never blocked in WAL mode); the expiry at the end is a write, made without waiting for a lock.
    // A hold that ends without a decision leaves its approval to become a grant (approval-store.ts leave).
    const source = {
      status: (a: string) => this.approvals.status(a),
      expire: (a: string) => writeWithoutBlocking(this.db, () => this.approvals.leave(a)),
    };
    return waitForApproval(source, id, timeoutMs, signal, LOCAL_POLL_MS);
  }

  getApproval(id: string): Promise<ApprovalRecord | undefined> {
    return Promise.resolve(this.approvals.get(id));
  }

  listApprovals(status?: ApprovalStatus): Promise<ApprovalRecord[]> {
    return Promise.resolve(this.approvals.list(status));
  }

  /**
   * Resolves in the store. "Always" also adds the tool to the boundary map, trusts its current
   * definition and stores an always grant; approving a call whose host is gone stores a once grant.
   */
  resolveApprovalNow(
    id: string,
    approve: boolean,
    scope: ApprovalScope,
    resolvedBy: string,
    options: ResolveOptions = {},
  ): ResolveResult | undefined {
    return this.db
      .transaction((): ResolveResult | undefined => {
        const result = this.approvals.resolve(id, approve, scope, resolvedBy);
        if (!result?.changed || !approve) return result;
        const { agentKey, serverName, tool } = result.approval;
        if (scope === 'always') {
          this.boundary.add(agentKey, serverName, tool, resolvedBy);
          this.tools.trust(agentKey, serverName, tool);
        }
        const facts = this.approvals.grantFacts(id);
        const grant = facts && grantFromResolution(result.approval, facts, scope, resolvedBy, options);
        return grant ? { ...result, grant: this.grants.create(grant) } : result;
      })
      .immediate();
  }

  resolveApproval(
    id: string,
    approve: boolean,
    scope: ApprovalScope,
    resolvedBy: string,
    options?: ResolveOptions,
  ): Promise<ResolveResult | undefined> {
    return Promise.resolve(this.resolveApprovalNow(id, approve, scope, resolvedBy, options));
  }

  /** The events `q` matches, oldest first (what `ratri events` reads, here or through `HttpControlPlane.queryEvents`). */
  queryEvents(q: EventQuery): Promise<StoredEvent[]> {
    return Promise.resolve(this.eventStore.query(q));
  }

  /** The tool registry; only `agentKey`'s when given. */
  listTools(agentKey?: string): Promise<RegisteredTool[]> {
    return Promise.resolve(this.tools.list(agentKey === undefined ? undefined : [agentKey]));
  }

  listGrants(all = false): Promise<GrantRecord[]> {
    return Promise.resolve(this.grants.list(all));
  }

  revokeGrant(id: string): Promise<RevokeResult | undefined> {
    return Promise.resolve(this.grants.revoke(id));
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}
