/**
 * The `grants` table: calls a human approved ahead of time, which pass without a new hold
 * (docs/control-plane.md, "Grants"). A `once` grant comes from an approval made after its host gave
 * up on the call: the same tool with the same arguments, from the same agent, passes once within
 * the grant window. An `always` grant comes from `ratri approvals approve --always`: that tool (with
 * `--args-match`, only with those arguments) passes `require_approval` for that agent until revoked.
 * Grants are consulted only for a `require_approval` decision, so they never override `block`.
 * Arguments are kept as a hash of their canonical JSON, never as values.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { GrantKind, GrantRecord } from './control-plane.js';
import { agentKeyIn } from './sql-dialect.js';
import { type Db, isoTime } from './store.js';

export interface NewGrant {
  kind: GrantKind;
  agentKey: string;
  serverName: string;
  tool: string;
  /** Null: any arguments. */
  argumentsHash: string | null;
  approvalId: string | null;
  createdBy: string | null;
  /** Null: until revoked. */
  expiresAt: string | null;
}

export interface GrantRow {
  id: string;
  kind: GrantKind;
  agent_key: string;
  server_name: string;
  tool: string;
  arguments_hash: string | null;
  approval_id: string | null;
  created_at: string;
  created_by: string | null;
  expires_at: string | null;
  used_at: string | null;
  revoked_at: string | null;
}

let reproducible = 0;

/** `grt_` and 10 hex digits; derived from RATRI_SESSION_ID when it is set (golden replays), like approval ids. */
export function newGrantId(): string {
  const session = process.env.RATRI_SESSION_ID;
  if (!session) return `grt_${randomBytes(5).toString('hex')}`;
  return `grt_${createHash('sha256').update(`${session}:grant:${++reproducible}`).digest('hex').slice(0, 10)}`;
}

export function fromRow(r: GrantRow): GrantRecord {
  return {
    id: r.id,
    kind: r.kind,
    agentKey: r.agent_key,
    serverName: r.server_name,
    tool: r.tool,
    argsMatch: r.arguments_hash !== null,
    approvalId: r.approval_id,
    createdAt: r.created_at,
    createdBy: r.created_by,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
    revokedAt: r.revoked_at,
  };
}

/** The grants still usable at `now`, of one tool of one agent. */
const USABLE = `agent_key = ? AND server_name = ? AND tool = ? AND revoked_at IS NULL AND used_at IS NULL
  AND (expires_at IS NULL OR expires_at > ?)`;

export class GrantStore {
  private readonly insertRow;
  private readonly selectRow;
  private readonly usable;
  private readonly useRow;
  private readonly revokeRow;

  constructor(private readonly db: Db) {
    this.insertRow = db.prepare(
      `INSERT INTO grants (id, kind, agent_key, server_name, tool, arguments_hash, approval_id, created_at, created_by, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.selectRow = db.prepare('SELECT * FROM grants WHERE id = ?');
    // Always grants first (they are not used up), then the oldest once grant.
    this.usable = db.prepare(`SELECT * FROM grants WHERE ${USABLE} ORDER BY kind = 'once', created_at`);
    this.useRow = db.prepare(`UPDATE grants SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL`);
    this.revokeRow = db.prepare(`UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`);
  }

  create(g: NewGrant): GrantRecord {
    const id = newGrantId();
    this.insertRow.run(id, g.kind, g.agentKey, g.serverName, g.tool, g.argumentsHash, g.approvalId, isoTime(), g.createdBy, g.expiresAt);
    return this.get(id)!;
  }

  get(id: string): GrantRecord | undefined {
    const row = this.selectRow.get(id) as GrantRow | undefined;
    return row && fromRow(row);
  }

  /** Whether any grant could apply to this tool now (one indexed read; the arguments are hashed only then). */
  private anyFor(agentKey: string, serverName: string, tool: string): GrantRow[] {
    return this.usable.all(agentKey, serverName, tool, isoTime()) as GrantRow[];
  }

  /**
   * The grant that lets this call pass, or undefined. A once grant is used up by this call: one
   * conditional UPDATE, so two proxies cannot both use it.
   */
  take(agentKey: string, serverName: string, tool: string, argumentsHash: () => string): GrantRecord | undefined {
    const rows = this.anyFor(agentKey, serverName, tool);
    if (rows.length === 0) return undefined;
    let hash: string | undefined;
    for (const row of rows) {
      if (row.arguments_hash !== null && row.arguments_hash !== (hash ??= argumentsHash())) continue;
      if (row.kind === 'always') return fromRow(row);
      const now = isoTime();
      if (this.useRow.run(now, row.id).changes > 0) return fromRow({ ...row, used_at: now });
    }
    return undefined;
  }

  /** Grants, newest first; with `all` false only those still usable; only those of `agents` when given. */
  list(all = false, limit = 200, agents?: readonly string[]): GrantRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (!all) {
      where.push('revoked_at IS NULL AND used_at IS NULL AND (expires_at IS NULL OR expires_at > ?)');
      params.push(isoTime());
    }
    if (agents) {
      where.push(agentKeyIn(agents));
      params.push(...agents);
    }
    const sql = `SELECT * FROM grants ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, limit) as GrantRow[]).map(fromRow);
  }

  /** Revokes a grant; undefined for an unknown id, `changed` false when it was already revoked. */
  revoke(id: string): { grant: GrantRecord; changed: boolean } | undefined {
    const changed = this.revokeRow.run(isoTime(), id).changes > 0;
    const grant = this.get(id);
    return grant && { grant, changed };
  }
}
