/**
 * The `boundary` table: the tools an agent may call without asking, per server. "Approve always"
 * adds a tool; the `require_approval_unknown_mcp_tools` template asks for every tool not in it.
 */
import { type Db, isoTime } from './store.js';

export class BoundaryMap {
  private readonly hasStmt;
  private readonly addStmt;

  constructor(db: Db) {
    this.hasStmt = db.prepare('SELECT 1 FROM boundary WHERE agent_key = ? AND server_name = ? AND tool = ?').pluck();
    this.addStmt = db.prepare('INSERT OR IGNORE INTO boundary (agent_key, server_name, tool, added_at, added_by) VALUES (?, ?, ?, ?, ?)');
  }

  has(agentKey: string, serverName: string, tool: string): boolean {
    return this.hasStmt.get(agentKey, serverName, tool) === 1;
  }

  add(agentKey: string, serverName: string, tool: string, addedBy: string): void {
    this.addStmt.run(agentKey, serverName, tool, isoTime(), addedBy);
  }
}
