/**
 * The control plane `ratri serve --database postgres://…` serves (docs/api.md, "PostgreSQL"): the
 * rules of the config, as local-control-plane.ts applies them, over events, approvals, the tool
 * registry, the boundary map and grants in PostgreSQL. It keeps nothing of its own, so several
 * replicas on one database are one control plane; approval changes reach every replica's long polls
 * through LISTEN/NOTIFY (approval-notices.ts).
 */
import type pg from 'pg';
import type { GuardrailsConfig, SecretsConfig } from '../config/types.js';
import { unavailable, withApproval } from '../policy/policy-hook.js';
import { evaluateRules, lookupsNeeded, type RuleDecision } from '../policy/rules.js';
import { secretFinder } from '../secrets/find-secrets.js';
import { findValueSecrets, type JsonSecrets, redactedValue } from '../secrets/json-secrets.js';
import { makeRedactor } from '../telemetry/redact.js';
import { ApprovalNotices } from './approval-notices.js';
import { newApprovalFor } from './approval-store.js';
import { callFacts } from './call-facts.js';
import { canonicalHash } from './canonical-json.js';
import type { ApprovalScope, GuardAnswer, GuardRequest, ResolveOptions, ResolveResult } from './control-plane.js';
import { grantedAnswer, grantFromResolution } from './grant-rules.js';
import { PgApprovalStore } from './pg-approval-store.js';
import { PgBoundaryMap } from './pg-boundary-map.js';
import { PgEventStore } from './pg-event-store.js';
import { PgGrantStore } from './pg-grant-store.js';
import { inTransaction, openPgStore } from './pg-store.js';
import { PgToolRegistry } from './pg-tool-registry.js';
import type { ServedPlane } from './served-plane.js';

export class PgControlPlane implements ServedPlane {
  readonly eventStore: PgEventStore;
  readonly approvals: PgApprovalStore;
  readonly tools: PgToolRegistry;
  readonly boundary: PgBoundaryMap;
  readonly grants: PgGrantStore;
  private readonly needs;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly notices: ApprovalNotices,
    private readonly guardrails: GuardrailsConfig,
    private readonly redactKeys: string[],
    private readonly secrets: Required<SecretsConfig>,
  ) {
    this.eventStore = new PgEventStore(pool);
    this.approvals = new PgApprovalStore(pool);
    this.tools = new PgToolRegistry(pool);
    this.boundary = new PgBoundaryMap(pool);
    this.grants = new PgGrantStore(pool);
    this.needs = lookupsNeeded(guardrails);
  }

  /** Connects to `url` and brings its schema up to date; throws StoreError naming the fix. */
  static async open(
    url: string,
    guardrails: GuardrailsConfig = { rules: [] },
    redactKeys: string[] = [],
    secrets: Required<SecretsConfig> = { redact: true, disabledRules: [] },
  ): Promise<PgControlPlane> {
    const pool = await openPgStore(url);
    const notices = new ApprovalNotices(url);
    try {
      await notices.start();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return new PgControlPlane(pool, notices, guardrails, redactKeys, secrets);
  }

  async evaluateNow(request: GuardRequest): Promise<GuardAnswer> {
    const found = await this.scan(request);
    const decision = await this.decide(request, found);
    if (decision.decision !== 'require_approval' || request.mode === 'monitor') return decision;
    try {
      const approval = await this.approvals.create(newApprovalFor(request, decision, this.approvalArguments(request, found)));
      return withApproval(decision, approval.id);
    } catch (err) {
      return unavailable(decision, err);
    }
  }

  async approvalArgumentsOf(request: GuardRequest): Promise<Record<string, unknown>> {
    return this.approvalArguments(request, await this.scan(request));
  }

  /** A grant that lets this `require_approval` call pass, as an `allow` answer (a failing store grants nothing). */
  async granted(request: GuardRequest, decision: RuleDecision): Promise<(RuleDecision & { grantId: string }) | undefined> {
    const grant = await this.grants
      .take(request.agentKey, request.serverName, request.tool, () => canonicalHash(request.arguments))
      .catch(() => undefined);
    return grant && grantedAnswer(grant, decision);
  }

  /** As LocalControlPlane.resolveApprovalNow, in one PostgreSQL transaction; the change is NOTIFYed at commit. */
  resolveApprovalNow(
    id: string,
    approve: boolean,
    scope: ApprovalScope,
    resolvedBy: string,
    options: ResolveOptions = {},
  ): Promise<ResolveResult | undefined> {
    return inTransaction(this.pool, async (client) => {
      const approvals = this.approvals.on(client);
      const result = await approvals.resolve(id, approve, scope, resolvedBy);
      if (!result?.changed || !approve) return result;
      const { agentKey, serverName, tool } = result.approval;
      if (scope === 'always') {
        await this.boundary.on(client).add(agentKey, serverName, tool, resolvedBy);
        await this.tools.on(client).trust(agentKey, serverName, tool);
      }
      const facts = await approvals.grantFacts(id);
      const grant = facts && grantFromResolution(result.approval, facts, scope, resolvedBy, options);
      return grant ? { ...result, grant: await this.grants.on(client).create(grant) } : result;
    });
  }

  changed(id: string, ms: number): Promise<void> {
    return this.notices.changed(id, ms);
  }

  async close(): Promise<void> {
    await this.notices.close();
    await this.pool.end().catch(() => undefined);
  }

  private async scan(request: GuardRequest): Promise<JsonSecrets | undefined> {
    if (!this.needs.secrets && !this.secrets.redact) return undefined;
    return findValueSecrets(request.arguments, secretFinder(this.secrets));
  }

  /** The rules' decision, with the store read only for the templates that need it (as local-control-plane.ts decides). */
  private async decide(request: GuardRequest, found: JsonSecrets | undefined): Promise<RuleDecision> {
    const { agentKey, serverName, tool } = request;
    const facts = callFacts(request, found, this.needs.secrets);
    if (this.needs.boundary) facts.inBoundary = await this.boundary.has(agentKey, serverName, tool);
    if (this.needs.definitions) facts.definitionChanged = await this.tools.isChanged(agentKey, serverName, tool);
    if (this.needs.annotations && request.annotations == null) {
      facts.annotations = await this.tools.annotationsOf(agentKey, serverName, tool);
      facts.toolUnknown = facts.annotations === undefined;
    }
    const decision = evaluateRules(this.guardrails, facts);
    if (decision.decision !== 'require_approval' || request.mode === 'monitor') return decision;
    return (await this.granted(request, decision)) ?? decision;
  }

  /** Secrets by value (when set) and `redactKeys` redacted, as local-control-plane.ts keeps approval arguments. */
  private approvalArguments(request: GuardRequest, found: JsonSecrets | undefined): Record<string, unknown> {
    const args = found && this.secrets.redact ? redactedValue(request.arguments, found) : request.arguments;
    const keys = [...new Set([...this.redactKeys, ...(request.redactKeys ?? [])])];
    return makeRedactor(keys, { truncate: false })(args) as Record<string, unknown>;
  }
}
