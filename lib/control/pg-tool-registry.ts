/**
 * The `tools` table in PostgreSQL (tool-registry.ts): each tool's trusted and last seen definition.
 * A `tools/list` page is registered in one transaction, its rows locked (`FOR UPDATE`), so two
 * replicas registering the same change report it once.
 */
import type pg from 'pg';
import type { ToolAnnotations, ToolDefinition } from '../policy/tool-catalog.js';
import type { DefineToolsAnswer } from './control-plane.js';
import { inTransaction, type Queryable } from './pg-store.js';
import { numberedPlaceholders } from './sql-dialect.js';
import { isoTime } from './store.js';
import { definitionHash, type RegisteredTool, registeredToolOf, type ToolRow, toolsListSql } from './tool-registry.js';

const KEY = 'agent_key = $1 AND server_name = $2 AND name = $3';

export class PgToolRegistry {
  constructor(
    private readonly pool: pg.Pool,
    private readonly db: Queryable = pool,
  ) {}

  on(db: Queryable): PgToolRegistry {
    return new PgToolRegistry(this.pool, db);
  }

  define(agentKey: string, serverName: string, tools: ToolDefinition[]): Promise<DefineToolsAnswer> {
    return inTransaction(this.pool, async (client) => {
      const now = isoTime();
      const changed: string[] = [];
      for (const tool of tools) {
        const hash = definitionHash(tool);
        const json = JSON.stringify(tool);
        const key = [agentKey, serverName, tool.name];
        const row = (
          await client.query<{ definition_hash: string; trusted_hash: string }>(
            `SELECT definition_hash, trusted_hash FROM tools WHERE ${KEY} FOR UPDATE`,
            key,
          )
        ).rows[0];
        if (!row) {
          await client.query(
            `INSERT INTO tools (agent_key, server_name, name, definition, definition_hash, trusted_hash, first_seen, last_seen)
             VALUES ($1, $2, $3, $4, $5, $5, $6, $6) ON CONFLICT DO NOTHING`,
            [...key, json, hash, now],
          );
          continue;
        }
        const newlyChanged = hash !== row.definition_hash && hash !== row.trusted_hash;
        if (newlyChanged) changed.push(tool.name);
        await client.query(
          `UPDATE tools SET definition = $4, definition_hash = $5, last_seen = $6, changed_at = CASE WHEN $7 THEN $6 ELSE changed_at END WHERE ${KEY}`,
          [...key, json, hash, now, newlyChanged],
        );
      }
      return { registered: tools.length, changed };
    });
  }

  async isChanged(agentKey: string, serverName: string, tool: string): Promise<boolean> {
    const row = (
      await this.db.query<{ changed: boolean }>(`SELECT definition_hash <> trusted_hash AS changed FROM tools WHERE ${KEY}`, [
        agentKey,
        serverName,
        tool,
      ])
    ).rows[0];
    return row?.changed === true;
  }

  async annotationsOf(agentKey: string, serverName: string, tool: string): Promise<ToolAnnotations | undefined> {
    const row = (await this.db.query<{ definition: string }>(`SELECT definition FROM tools WHERE ${KEY}`, [agentKey, serverName, tool]))
      .rows[0];
    return row === undefined ? undefined : ((JSON.parse(row.definition) as ToolDefinition).annotations ?? {});
  }

  async trust(agentKey: string, serverName: string, tool: string): Promise<boolean> {
    const done = await this.db.query(`UPDATE tools SET trusted_hash = definition_hash, changed_at = NULL WHERE ${KEY}`, [
      agentKey,
      serverName,
      tool,
    ]);
    return (done.rowCount ?? 0) > 0;
  }

  /** As ToolRegistry.list: every tool, or those of `agents`. */
  async list(agents?: readonly string[]): Promise<RegisteredTool[]> {
    const { sql, params } = toolsListSql(agents);
    return (await this.db.query<ToolRow>(numberedPlaceholders(sql), [...params])).rows.map(registeredToolOf);
  }
}
