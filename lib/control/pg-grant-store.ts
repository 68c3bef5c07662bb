/**
 * The `grants` table in PostgreSQL (grant-store.ts): calls approved ahead of time. A once grant is
 * used up by one conditional UPDATE, so two replicas cannot both let a call pass on it.
 */
import type { GrantRecord, RevokeResult } from './control-plane.js';
import { fromRow, type GrantRow, type NewGrant, newGrantId } from './grant-store.js';
import type { Queryable } from './pg-store.js';
import { isoTime } from './store.js';

const USABLE = 'revoked_at IS NULL AND used_at IS NULL AND (expires_at IS NULL OR expires_at > $1)';

export class PgGrantStore {
  constructor(private readonly db: Queryable) {}

  on(db: Queryable): PgGrantStore {
    return new PgGrantStore(db);
  }

  async create(g: NewGrant): Promise<GrantRecord> {
    const id = newGrantId();
    await this.db.query(
      `INSERT INTO grants (id, kind, agent_key, server_name, tool, arguments_hash, approval_id, created_at, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [id, g.kind, g.agentKey, g.serverName, g.tool, g.argumentsHash, g.approvalId, isoTime(), g.createdBy, g.expiresAt],
    );
    return (await this.get(id))!;
  }

  async get(id: string): Promise<GrantRecord | undefined> {
    const row = (await this.db.query<GrantRow>('SELECT * FROM grants WHERE id = $1', [id])).rows[0];
    return row && fromRow(row);
  }

  /** As GrantStore.take. */
  async take(agentKey: string, serverName: string, tool: string, argumentsHash: () => string): Promise<GrantRecord | undefined> {
    const rows = (
      await this.db.query<GrantRow>(
        `SELECT * FROM grants WHERE agent_key = $2 AND server_name = $3 AND tool = $4 AND ${USABLE} ORDER BY kind = 'once', created_at`,
        [isoTime(), agentKey, serverName, tool],
      )
    ).rows;
    let hash: string | undefined;
    for (const row of rows) {
      if (row.arguments_hash !== null && row.arguments_hash !== (hash ??= argumentsHash())) continue;
      if (row.kind === 'always') return fromRow(row);
      const now = isoTime();
      const used = await this.db.query('UPDATE grants SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL', [
        now,
        row.id,
      ]);
      if (used.rowCount) return fromRow({ ...row, used_at: now });
    }
    return undefined;
  }

  /** As GrantStore.list. */
  async list(all = false, limit = 200, agents?: readonly string[]): Promise<GrantRecord[]> {
    const rows = await this.db.query<GrantRow>(
      `SELECT * FROM grants WHERE ($1::text IS NULL OR (${USABLE})) AND ($2::text[] IS NULL OR agent_key = ANY($2))
       ORDER BY created_at DESC LIMIT $3`,
      [all ? null : isoTime(), agents ?? null, limit],
    );
    return rows.rows.map(fromRow);
  }

  async revoke(id: string): Promise<RevokeResult | undefined> {
    const done = await this.db.query('UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [isoTime(), id]);
    const grant = await this.get(id);
    return grant && { grant, changed: (done.rowCount ?? 0) > 0 };
  }
}
