/** The `boundary` table in PostgreSQL (boundary-map.ts): the tools an agent may call without asking. */
import type { Queryable } from './pg-store.js';
import { isoTime } from './store.js';

export class PgBoundaryMap {
  constructor(private readonly db: Queryable) {}

  on(db: Queryable): PgBoundaryMap {
    return new PgBoundaryMap(db);
  }

  async has(agentKey: string, serverName: string, tool: string): Promise<boolean> {
    const found = await this.db.query('SELECT 1 FROM boundary WHERE agent_key = $1 AND server_name = $2 AND tool = $3', [
      agentKey,
      serverName,
      tool,
    ]);
    return found.rows.length > 0;
  }

  async add(agentKey: string, serverName: string, tool: string, addedBy: string): Promise<void> {
    await this.db.query(
      'INSERT INTO boundary (agent_key, server_name, tool, added_at, added_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
      [agentKey, serverName, tool, isoTime(), addedBy],
    );
  }
}
