/**
 * Where the SQL of the SQLite store and of PostgreSQL differ for the queries both run alike (the
 * events of `GET /v1/events`, the tools of `GET /v1/tools`): written once with `?` placeholders,
 * numbered for PostgreSQL, with a glob matched as each database can.
 */

/** How one store's SQL matches what the conditions need. */
export interface SqlDialect {
  /** `column` matches the glob parameter (given as `pattern` makes it). */
  matches(column: string): string;
  /** A `*`/`?` glob as that operator's pattern. */
  pattern(glob: string): string;
  /** The text after the first `.` of `column` (all of it when there is none). */
  afterDot(column: string): string;
}

export const SQLITE: SqlDialect = {
  matches: (column) => `${column} GLOB ?`,
  // The same two wildcards; brackets escaped.
  pattern: (glob) => glob.replace(/[[\]]/g, (c) => `[${c}]`),
  afterDot: (column) => `substr(${column}, instr(${column}, '.') + 1)`,
};

export const POSTGRES: SqlDialect = {
  matches: (column) => `${column} LIKE ?`,
  // LIKE's own wildcards and its escape character are escaped, then `*` and `?` become `%` and `_`.
  pattern: (glob) =>
    glob
      .replace(/[\\%_]/g, (c) => `\\${c}`)
      .replace(/\*/g, '%')
      .replace(/\?/g, '_'),
  afterDot: (column) => `substr(${column}, strpos(${column}, '.') + 1)`,
};

/** `agent_key` is one of `agents` (`?` placeholders, one per agent); no agents at all matches nothing (`IN ()` is not SQL). */
export function agentKeyIn(agents: readonly string[]): string {
  return agents.length === 0 ? '1 = 0' : `agent_key IN (${agents.map(() => '?').join(', ')})`;
}

/** `?` placeholders numbered `$1`, `$2`… for PostgreSQL (no `?` is written in the SQL text otherwise: values are parameters). */
export function numberedPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
