/**
 * The PostgreSQL schema of `ratri serve --database` (docs/api.md, "PostgreSQL"), as numbered
 * migrations: the tables of the SQLite store (migrations.ts) but the outbox, which only a proxy has.
 * `ratri_schema.version` records how many have run. Never edit a migration that has shipped: add the next one.
 */
export const PG_MIGRATIONS: readonly string[] = [
  // 1: events, approvals, the boundary map, the tool registry, grants.
  `
  CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    ts TEXT NOT NULL,
    type TEXT NOT NULL,
    agent_key TEXT NOT NULL,
    environment TEXT NOT NULL,
    server_name TEXT NOT NULL,
    session_id TEXT NOT NULL,
    tool TEXT,
    decision TEXT,
    data TEXT NOT NULL
  );
  CREATE INDEX events_ts ON events (ts);

  CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
    agent_key TEXT NOT NULL,
    server_name TEXT NOT NULL,
    tool TEXT NOT NULL,
    session_id TEXT,
    request_id TEXT,
    arguments TEXT NOT NULL,
    rule_id TEXT,
    reason TEXT,
    requested_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT,
    scope TEXT CHECK (scope IN ('once', 'always')),
    arguments_hash TEXT,
    grant_window_ms BIGINT NOT NULL DEFAULT 0,
    host_gone_at TEXT
  );
  CREATE INDEX approvals_status ON approvals (status, requested_at);

  CREATE TABLE boundary (
    agent_key TEXT NOT NULL,
    server_name TEXT NOT NULL,
    tool TEXT NOT NULL,
    added_at TEXT NOT NULL,
    added_by TEXT,
    PRIMARY KEY (agent_key, server_name, tool)
  );

  CREATE TABLE tools (
    agent_key TEXT NOT NULL,
    server_name TEXT NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    definition_hash TEXT NOT NULL,
    trusted_hash TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    changed_at TEXT,
    PRIMARY KEY (agent_key, server_name, name)
  );

  CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('once', 'always')),
    agent_key TEXT NOT NULL,
    server_name TEXT NOT NULL,
    tool TEXT NOT NULL,
    arguments_hash TEXT,
    approval_id TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT,
    expires_at TEXT,
    used_at TEXT,
    revoked_at TEXT
  );
  CREATE INDEX grants_tool ON grants (agent_key, server_name, tool);
  `,
  // 2: events by agent, newest first: what a key bound to agents lists (docs/api.md); without it
  // a listing for an agent with few events scans the whole table.
  `
  CREATE INDEX events_agent ON events (agent_key, seq);
  `,
];
