/**
 * The `tools` table: every tool a server has listed, with the definition first trusted (pinned) and
 * the one last seen. A tool whose description, input schema or annotations move away from the
 * trusted definition is "changed" until a human trusts it again (`ratri tools trust`, or approving
 * a call to it with "always"); the `block_changed_tool_definitions` template acts on that.
 */

import type { ToolAnnotations, ToolDefinition } from '../policy/tool-catalog.js';
import { canonicalHash } from './canonical-json.js';
import type { DefineToolsAnswer } from './control-plane.js';
import { agentKeyIn } from './sql-dialect.js';
import { type Db, isoTime } from './store.js';

export interface RegisteredTool {
  agentKey: string;
  serverName: string;
  name: string;
  definition: ToolDefinition;
  /** The last definition seen differs from the trusted one. */
  changed: boolean;
  firstSeen: string;
  lastSeen: string;
  changedAt: string | null;
}

export interface ToolRow {
  agent_key: string;
  server_name: string;
  name: string;
  definition: string;
  definition_hash: string;
  trusted_hash: string;
  first_seen: string;
  last_seen: string;
  changed_at: string | null;
}

/** The part of a definition that is pinned: what the model reads and what the policy matches. */
export function definitionHash(tool: ToolDefinition): string {
  const pinned = { description: tool.description ?? null, inputSchema: tool.inputSchema ?? null, annotations: tool.annotations ?? null };
  return canonicalHash(pinned);
}

/** The SELECT of a listing (`?` placeholders), in both stores: every tool, or those of `agents`. */
export function toolsListSql(agents?: readonly string[]): { sql: string; params: readonly string[] } {
  const where = agents ? ` WHERE ${agentKeyIn(agents)}` : '';
  return { sql: `SELECT * FROM tools${where} ORDER BY agent_key, server_name, name`, params: agents ?? [] };
}

export function registeredToolOf(r: ToolRow): RegisteredTool {
  return {
    agentKey: r.agent_key,
    serverName: r.server_name,
    name: r.name,
    definition: JSON.parse(r.definition) as ToolDefinition,
    changed: r.definition_hash !== r.trusted_hash,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    changedAt: r.changed_at,
  };
}

export class ToolRegistry {
  private readonly selectRow;
  private readonly insertRow;
  private readonly updateSeen;
  private readonly isChangedStmt;
  private readonly trustRow;
  private readonly definitionOf;
  private readonly defineAll;

  constructor(private readonly db: Db) {
    this.selectRow = db.prepare('SELECT definition_hash, trusted_hash FROM tools WHERE agent_key = ? AND server_name = ? AND name = ?');
    this.insertRow = db.prepare(
      `INSERT INTO tools (agent_key, server_name, name, definition, definition_hash, trusted_hash, first_seen, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.updateSeen = db.prepare(
      `UPDATE tools SET definition = ?, definition_hash = ?, last_seen = ?, changed_at = CASE WHEN ? THEN ? ELSE changed_at END
       WHERE agent_key = ? AND server_name = ? AND name = ?`,
    );
    this.isChangedStmt = db
      .prepare('SELECT definition_hash <> trusted_hash FROM tools WHERE agent_key = ? AND server_name = ? AND name = ?')
      .pluck();
    this.definitionOf = db.prepare('SELECT definition FROM tools WHERE agent_key = ? AND server_name = ? AND name = ?').pluck();
    this.trustRow = db.prepare(
      `UPDATE tools SET trusted_hash = definition_hash, changed_at = NULL WHERE agent_key = ? AND server_name = ? AND name = ?`,
    );
    this.defineAll = db.transaction((agentKey: string, serverName: string, tools: ToolDefinition[]): DefineToolsAnswer => {
      const now = isoTime();
      const changed: string[] = [];
      for (const tool of tools) {
        const hash = definitionHash(tool);
        const row = this.selectRow.get(agentKey, serverName, tool.name) as { definition_hash: string; trusted_hash: string } | undefined;
        const json = JSON.stringify(tool);
        if (!row) {
          this.insertRow.run(agentKey, serverName, tool.name, json, hash, hash, now, now);
          continue;
        }
        // A change is reported once, when it is first seen, not on every later list.
        const newlyChanged = hash !== row.definition_hash && hash !== row.trusted_hash;
        if (newlyChanged) changed.push(tool.name);
        this.updateSeen.run(json, hash, now, newlyChanged ? 1 : 0, now, agentKey, serverName, tool.name);
      }
      return { registered: tools.length, changed };
    });
  }

  /** Registers one `tools/list` page of a server's tools. */
  define(agentKey: string, serverName: string, tools: ToolDefinition[]): DefineToolsAnswer {
    return this.defineAll.immediate(agentKey, serverName, tools);
  }

  /** Whether the tool's last seen definition differs from the trusted one (false for a tool never listed). */
  isChanged(agentKey: string, serverName: string, tool: string): boolean {
    return this.isChangedStmt.get(agentKey, serverName, tool) === 1;
  }

  /** The annotations of the tool's last seen definition (`{}` if it had none); undefined for a tool never listed. */
  annotationsOf(agentKey: string, serverName: string, tool: string): ToolAnnotations | undefined {
    const json = this.definitionOf.get(agentKey, serverName, tool) as string | undefined;
    return json === undefined ? undefined : ((JSON.parse(json) as ToolDefinition).annotations ?? {});
  }

  /** Trusts the tool's current definition; false when the tool is not registered. */
  trust(agentKey: string, serverName: string, tool: string): boolean {
    return this.trustRow.run(agentKey, serverName, tool).changes > 0;
  }

  /** The registered tools, by agent, server and name; only those of `agents` when given. */
  list(agents?: readonly string[]): RegisteredTool[] {
    const { sql, params } = toolsListSql(agents);
    return (this.db.prepare(sql).all(...params) as ToolRow[]).map(registeredToolOf);
  }
}
