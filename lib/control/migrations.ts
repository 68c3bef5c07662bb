/**
 * The store's schema, as numbered migrations. `PRAGMA user_version` records how many have run;
 * a store opened by a newer ratri than the one that made it is brought up to date inside one
 * IMMEDIATE transaction, so two processes opening a new store at once cannot both migrate it.
 * Never edit a migration that has shipped: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: events, approvals, the boundary map, the tool registry, the outbox of a remote control plane.
  `
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY, -- rowid: grows with each insert (no AUTOINCREMENT, which costs a write per row)
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
  -- One index besides the id's: every index costs each of the many inserts a B-tree write. Tool and
  -- decision filters read the newest rows backwards by seq, which needs none.
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
    scope TEXT CHECK (scope IN ('once', 'always'))
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

  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    lease_until INTEGER NOT NULL DEFAULT 0
  );
  `,
  // 2: grants (docs/control-plane.md, "Grants"); what an approval needs to become one.
  `
  ALTER TABLE approvals ADD COLUMN arguments_hash TEXT; -- sha256 of the real (unredacted) arguments' canonical JSON
  ALTER TABLE approvals ADD COLUMN grant_window_ms INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE approvals ADD COLUMN host_gone_at TEXT; -- the held call ended without a decision: approving it makes a grant

  CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('once', 'always')),
    agent_key TEXT NOT NULL,
    server_name TEXT NOT NULL,
    tool TEXT NOT NULL,
    arguments_hash TEXT, -- NULL: any arguments
    approval_id TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT,
    expires_at TEXT, -- NULL: until revoked
    used_at TEXT,
    revoked_at TEXT
  );
  CREATE INDEX grants_tool ON grants (agent_key, server_name, tool);
  `,
  // 3: one row per tool call (docs/events.md#one-record-per-call). The events of a call (decision,
  // start, result-phase decision, end) are read back from it; rows already in `events` stay as they
  // are and are read as before. Times are ms since the epoch; `seq` shares one sequence with `events`.
  `
  CREATE TABLE calls (
    seq INTEGER PRIMARY KEY, -- the seq of the call's latest event (moves when a held call ends)
    id TEXT NOT NULL UNIQUE,
    ts INTEGER NOT NULL, -- ms: the call's first event
    end_ts INTEGER, -- ms: its end; NULL while held or never answered
    agent_key TEXT NOT NULL,
    environment TEXT NOT NULL,
    server_name TEXT NOT NULL,
    session_id TEXT NOT NULL,
    request_id TEXT,
    tool TEXT,
    action TEXT,
    resource_type TEXT,
    resource_value TEXT,
    risk_level TEXT,
    protocol_version TEXT,
    round INTEGER,
    first_call_id TEXT,
    decision TEXT,
    rule_id TEXT,
    latency_ms REAL,
    result_decision TEXT,
    outcome TEXT, -- completed | failed; NULL until the call ended
    duration_ms REAL,
    arguments_size INTEGER,
    result_size INTEGER,
    arguments TEXT, -- redacted JSON, written once
    events INTEGER NOT NULL, -- how many events the row stands for
    base TEXT, -- JSON: the events' leading fields, only when the columns cannot give them back
    parts TEXT NOT NULL -- JSON array: each event's kind, seq, ms and own fields (the columns above are for queries)
  );
  CREATE INDEX calls_ts ON calls (ts);
  `,
  // 4: events by agent, newest first: what a key bound to agents lists on `ratri serve` (docs/api.md).
  // Without it a listing for an agent with few events scans the whole table (83 ms at 1 000 000 events).
  `
  CREATE INDEX events_agent ON events (agent_key, seq);
  `,
];
