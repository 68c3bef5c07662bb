/**
 * The `approvals` table in PostgreSQL: the same rows and the same rules as approval-store.ts (one
 * conditional UPDATE per change, so a resolution and an expiry racing from two replicas cannot both
 * win). Every change is announced on the `ratri_approvals` channel (NOTIFY, sent at commit), which
 * is how a replica holding a proxy's long poll learns of a resolution made through another.
 */
import {
  type ApprovalRow,
  fromRow,
  type GrantFacts,
  type NewApproval,
  newApprovalId,
  newApprovalValues,
  randomApprovalId,
} from './approval-store.js';
import type { ApprovalRecord, ApprovalScope, ApprovalStatus, ResolveResult } from './control-plane.js';
import type { Queryable } from './pg-store.js';
import { isoTime } from './store.js';

export const APPROVALS_CHANNEL = 'ratri_approvals';

const notify = (db: Queryable, id: string): Promise<unknown> => db.query('SELECT pg_notify($1, $2)', [APPROVALS_CHANNEL, id]);

export class PgApprovalStore {
  constructor(private readonly db: Queryable) {}

  /** The same store on one client of a transaction. */
  on(db: Queryable): PgApprovalStore {
    return new PgApprovalStore(db);
  }

  async create(a: NewApproval): Promise<ApprovalRecord> {
    const now = Date.now();
    const insert = (id: string) =>
      this.db.query(
        `INSERT INTO approvals (id, status, agent_key, server_name, tool, session_id, request_id, arguments, rule_id, reason, requested_at, expires_at, arguments_hash, grant_window_ms)
         VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING`,
        [id, ...newApprovalValues(a, now)],
      );
    let id = newApprovalId();
    if ((await insert(id)).rowCount === 0) {
      id = randomApprovalId();
      await insert(id);
    }
    return (await this.get(id))!;
  }

  private async row(id: string): Promise<ApprovalRow | undefined> {
    return (await this.db.query<ApprovalRow>('SELECT * FROM approvals WHERE id = $1', [id])).rows[0];
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    let row = await this.row(id);
    if (row?.status === 'pending' && row.expires_at <= isoTime()) {
      await this.expire(id);
      row = await this.row(id);
    }
    return row && fromRow(row);
  }

  async status(id: string): Promise<ApprovalStatus | undefined> {
    return (await this.db.query<{ status: ApprovalStatus }>('SELECT status FROM approvals WHERE id = $1', [id])).rows[0]?.status;
  }

  /** As ApprovalStore.list. */
  async list(status?: ApprovalStatus, limit = 200, agents?: readonly string[]): Promise<ApprovalRecord[]> {
    const now = isoTime();
    await this.db.query(`UPDATE approvals SET status = 'expired', resolved_at = $1 WHERE status = 'pending' AND expires_at <= $1`, [now]);
    const rows = await this.db.query<ApprovalRow>(
      `SELECT * FROM approvals WHERE ($1::text IS NULL OR status = $1) AND ($2::text[] IS NULL OR agent_key = ANY($2))
       ORDER BY requested_at DESC LIMIT $3`,
      [status ?? null, agents ?? null, limit],
    );
    return rows.rows.map(fromRow);
  }

  /** As ApprovalStore.resolve; the change is announced. */
  async resolve(id: string, approve: boolean, scope: ApprovalScope, resolvedBy: string): Promise<ResolveResult | undefined> {
    const now = isoTime();
    const changed =
      ((
        await this.db.query(
          `UPDATE approvals SET status = $1, scope = $2, resolved_by = $3, resolved_at = $4
           WHERE id = $5 AND status = 'pending' AND expires_at > $4`,
          [approve ? 'approved' : 'rejected', scope, resolvedBy, now, id],
        )
      ).rowCount ?? 0) > 0;
    if (changed) await notify(this.db, id);
    const approval = await this.get(id);
    return approval && { approval, changed };
  }

  async expire(id: string): Promise<ApprovalStatus | undefined> {
    const done = await this.db.query(`UPDATE approvals SET status = 'expired', resolved_at = $1 WHERE id = $2 AND status = 'pending'`, [
      isoTime(),
      id,
    ]);
    if (done.rowCount) await notify(this.db, id);
    return this.status(id);
  }

  /** As ApprovalStore.leave. */
  async leave(id: string): Promise<ApprovalStatus | undefined> {
    const row = await this.row(id);
    if (!row || row.grant_window_ms <= 0) return this.expire(id);
    const now = Date.now();
    await this.db.query(
      `UPDATE approvals SET host_gone_at = $1, expires_at = $2 WHERE id = $3 AND status = 'pending' AND host_gone_at IS NULL`,
      [isoTime(now), isoTime(now + row.grant_window_ms), id],
    );
    return this.status(id);
  }

  async grantFacts(id: string): Promise<GrantFacts | undefined> {
    const row = await this.row(id);
    return row && { argumentsHash: row.arguments_hash, grantWindowMs: row.grant_window_ms, hostGoneAt: row.host_gone_at };
  }
}
