/**
 * The `approvals` table. A held call's approval is created `pending`; exactly one of these ends it,
 * whichever comes first: a human approves or rejects it (`ratri approvals`, the dashboard, the API),
 * or its time runs out (`expired`). Every change is one conditional UPDATE, so a resolution and an
 * expiry racing each other from two processes cannot both win.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DEFAULTS } from '../config/types.js';
import type { GuardRequest } from '../policy/policy-hook.js';
import { canonicalHash } from './canonical-json.js';
import type { ApprovalRecord, ApprovalScope, ApprovalStatus, ResolveResult } from './control-plane.js';
import { agentKeyIn } from './sql-dialect.js';
import { type Db, isoTime } from './store.js';

/** What a new approval is made of: the call it is about (arguments already redacted) and how long it may wait. */
export type NewApproval = Pick<
  ApprovalRecord,
  'agentKey' | 'serverName' | 'tool' | 'sessionId' | 'requestId' | 'arguments' | 'ruleId' | 'reason'
> & {
  timeoutMs: number;
  /** sha256 of the real arguments' canonical JSON (canonical-json.ts), for a grant made from this approval. */
  argumentsHash?: string | null;
  /** How long a grant made by approving this call after its host gave up stays usable; 0: no such grant. */
  grantWindowMs?: number;
};

/**
 * The approval a held call gets, built one way wherever one is made (the local control plane, and
 * `ratri serve` for a proxy's stricter local decision): the call's identity, its arguments already
 * redacted (secrets and redactKeys), the hash a grant is matched by, the rule that held it, and the
 * request's approvalTimeoutMs or the default.
 */
export function newApprovalFor(
  request: GuardRequest,
  heldBy: { ruleId: string | null; reason: string | null },
  redactedArguments: Record<string, unknown>,
): NewApproval {
  return {
    agentKey: request.agentKey,
    serverName: request.serverName,
    tool: request.tool,
    sessionId: request.sessionId ?? null,
    requestId: request.requestId ?? null,
    arguments: redactedArguments,
    ruleId: heldBy.ruleId,
    reason: heldBy.reason,
    timeoutMs: request.approvalTimeoutMs ?? DEFAULTS.approvalTimeoutMs,
    argumentsHash: canonicalHash(request.arguments),
    grantWindowMs: request.grantWindowMs ?? 0,
  };
}

/** What a grant made from an approval needs, kept beside it but never shown. */
export interface GrantFacts {
  argumentsHash: string | null;
  grantWindowMs: number;
  hostGoneAt: string | null;
}

export interface ApprovalRow {
  id: string;
  status: ApprovalStatus;
  agent_key: string;
  server_name: string;
  tool: string;
  session_id: string | null;
  request_id: string | null;
  arguments: string;
  rule_id: string | null;
  reason: string | null;
  requested_at: string;
  expires_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
  scope: ApprovalScope | null;
  arguments_hash: string | null;
  grant_window_ms: number;
  host_gone_at: string | null;
}

let reproducible = 0;

/**
 * Short enough to type in `ratri approvals approve apr_…`, random enough never to collide. With
 * RATRI_SESSION_ID set (golden replays) the ids are derived from it, so a replay's answers are the
 * same bytes every time; `create` falls back to a random id should one already be taken.
 */
export function newApprovalId(): string {
  const session = process.env.RATRI_SESSION_ID;
  if (!session) return randomApprovalId();
  return `apr_${createHash('sha256').update(`${session}:${++reproducible}`).digest('hex').slice(0, 10)}`;
}

/** A random approval id, for the rare reproducible id that is taken already (another process of the same session). */
export function randomApprovalId(): string {
  return `apr_${randomBytes(5).toString('hex')}`;
}

/**
 * The column values of a new approval's row after its id, in the order of both stores' INSERT
 * (this file's and pg-approval-store.ts's): agent, server, tool, session, request, arguments, rule,
 * reason, requested, expires, arguments hash, grant window.
 */
export function newApprovalValues(a: NewApproval, now: number): unknown[] {
  return [
    a.agentKey,
    a.serverName,
    a.tool,
    a.sessionId,
    a.requestId,
    JSON.stringify(a.arguments),
    a.ruleId,
    a.reason,
    isoTime(now),
    isoTime(now + a.timeoutMs),
    a.argumentsHash ?? null,
    a.grantWindowMs ?? 0,
  ];
}

function isDuplicateId(err: unknown): boolean {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function fromRow(r: ApprovalRow): ApprovalRecord {
  return {
    id: r.id,
    status: r.status,
    agentKey: r.agent_key,
    serverName: r.server_name,
    tool: r.tool,
    sessionId: r.session_id,
    requestId: r.request_id,
    arguments: JSON.parse(r.arguments) as Record<string, unknown>,
    ruleId: r.rule_id,
    reason: r.reason,
    requestedAt: r.requested_at,
    expiresAt: r.expires_at,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    scope: r.scope,
    hostGoneAt: r.host_gone_at,
  };
}

export class ApprovalStore {
  private readonly insertRow;
  private readonly selectRow;
  private readonly statusOf;
  private readonly resolveRow;
  private readonly expireRow;
  private readonly leaveRow;
  private readonly expireDue;
  private readonly anyDue;

  constructor(private readonly db: Db) {
    this.insertRow = db.prepare(
      `INSERT INTO approvals (id, status, agent_key, server_name, tool, session_id, request_id, arguments, rule_id, reason, requested_at, expires_at, arguments_hash, grant_window_ms)
       VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.selectRow = db.prepare('SELECT * FROM approvals WHERE id = ?');
    this.statusOf = db.prepare('SELECT status FROM approvals WHERE id = ?').pluck();
    this.resolveRow = db.prepare(
      `UPDATE approvals SET status = ?, scope = ?, resolved_by = ?, resolved_at = ?
       WHERE id = ? AND status = 'pending' AND expires_at > ?`,
    );
    this.leaveRow = db.prepare(
      `UPDATE approvals SET host_gone_at = ?, expires_at = ? WHERE id = ? AND status = 'pending' AND host_gone_at IS NULL`,
    );
    this.expireRow = db.prepare(`UPDATE approvals SET status = 'expired', resolved_at = ? WHERE id = ? AND status = 'pending'`);
    this.expireDue = db.prepare(`UPDATE approvals SET status = 'expired', resolved_at = ? WHERE status = 'pending' AND expires_at <= ?`);
    this.anyDue = db.prepare(`SELECT 1 FROM approvals WHERE status = 'pending' AND expires_at <= ? LIMIT 1`).pluck();
  }

  create(a: NewApproval): ApprovalRecord {
    const now = Date.now();
    const insert = (id: string): void => void this.insertRow.run(id, ...newApprovalValues(a, now));
    let id = newApprovalId();
    try {
      insert(id);
    } catch (err) {
      if (!isDuplicateId(err)) throw err;
      id = randomApprovalId();
      insert(id);
    }
    return this.get(id)!;
  }

  get(id: string): ApprovalRecord | undefined {
    let row = this.selectRow.get(id) as ApprovalRow | undefined;
    if (row?.status === 'pending' && row.expires_at <= isoTime()) {
      this.expire(id); // its proxy may have gone away before its timeout fired
      row = this.selectRow.get(id) as ApprovalRow;
    }
    return row && fromRow(row);
  }

  /** The status alone: what a waiting proxy polls (a single indexed read). */
  status(id: string): ApprovalStatus | undefined {
    return this.statusOf.get(id) as ApprovalStatus | undefined;
  }

  /** Newest first; only those with `status`, and only those of `agents`, when given. */
  list(status?: ApprovalStatus, limit = 200, agents?: readonly string[]): ApprovalRecord[] {
    this.expireOverdue();
    const where: string[] = [];
    const params: unknown[] = [];
    if (status) {
      where.push('status = ?');
      params.push(status);
    }
    if (agents) {
      where.push(agentKeyIn(agents));
      params.push(...agents);
    }
    const sql = `SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY requested_at DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, limit) as ApprovalRow[]).map(fromRow);
  }

  /**
   * Approves or rejects a pending approval whose time has not run out. Returns undefined for an
   * unknown id; `changed` is false when it was already resolved or expired (it is left as it was).
   */
  resolve(id: string, approve: boolean, scope: ApprovalScope, resolvedBy: string): ResolveResult | undefined {
    const now = isoTime();
    const changed = this.resolveRow.run(approve ? 'approved' : 'rejected', scope, resolvedBy, now, id, now).changes > 0;
    const approval = this.get(id);
    return approval && { approval, changed };
  }

  /** Marks one approval expired if it is still pending; returns its status afterwards. */
  expire(id: string): ApprovalStatus | undefined {
    this.expireRow.run(isoTime(), id);
    return this.status(id);
  }

  /**
   * The held call ended without a decision (its host cancelled it or stopped waiting, its time ran
   * out, the session ended). With a grant window the approval stays pending for that long, marked
   * host-gone, so approving it makes a once grant; without one it is expired. Returns its status after.
   */
  leave(id: string): ApprovalStatus | undefined {
    const row = this.selectRow.get(id) as ApprovalRow | undefined;
    if (!row || row.grant_window_ms <= 0) return this.expire(id);
    const now = Date.now();
    this.leaveRow.run(isoTime(now), isoTime(now + row.grant_window_ms), id);
    return this.status(id);
  }

  /** The hash and window a grant from this approval needs. */
  grantFacts(id: string): GrantFacts | undefined {
    const row = this.selectRow.get(id) as ApprovalRow | undefined;
    return row && { argumentsHash: row.arguments_hash, grantWindowMs: row.grant_window_ms, hostGoneAt: row.host_gone_at };
  }

  /** Pending approvals whose time has passed become `expired` (their proxy may have gone away). */
  private expireOverdue(): void {
    const now = isoTime();
    // Checked with a read first: the UPDATE takes the store's write lock even when nothing is due.
    if (this.anyDue.get(now)) this.expireDue.run(now, now);
  }
}
