/** What one doctor check reports: the shape of each entry of `ratri doctor --json` (docs/doctor.md). */

/** `pass` ✓ and `warn` ! do not fail the run; `fail` ✗ does; `skip` is a check that could not run after an earlier failure. */
export type CheckLevel = 'pass' | 'warn' | 'fail' | 'skip';

export type CheckId = 'config' | 'host-entry' | 'upstream' | 'initialize' | 'tools' | 'rules' | 'control-plane' | 'host-config';

/** The one-line titles, in the order the checks run. */
export const CHECK_TITLES: Readonly<Record<CheckId, string>> = {
  config: 'config valid',
  'host-entry': 'host entry starts ratri',
  upstream: 'upstream command starts',
  initialize: 'MCP initialize handshake',
  tools: 'tools/list',
  rules: 'rule decisions',
  'control-plane': 'control plane',
  'host-config': 'host config snippet',
};

export interface CheckResult {
  id: CheckId;
  title: string;
  /** True for pass and warn. */
  ok: boolean;
  level: CheckLevel;
  /** One line: what was found. */
  detail: string;
  /** One line in plain language: what to change. Null when there is nothing to fix. */
  fix: string | null;
  /** The `servers` entry (or the serverName of a single-server config) the check is about; null for the whole file. */
  server: string | null;
  /** More lines shown under the check: every config problem, the decisions table, the snippet. */
  lines: string[];
  /** Machine-readable findings (protocol version, tool names, decisions, the snippet object). */
  data?: unknown;
}

interface Extra {
  server?: string | null;
  lines?: string[];
  data?: unknown;
  fix?: string | null;
}

function make(id: CheckId, level: CheckLevel, detail: string, extra: Extra): CheckResult {
  const result: CheckResult = {
    id,
    title: CHECK_TITLES[id],
    ok: level === 'pass' || level === 'warn',
    level,
    detail,
    fix: extra.fix ?? null,
    server: extra.server ?? null,
    lines: extra.lines ?? [],
  };
  if (extra.data !== undefined) result.data = extra.data;
  return result;
}

/** A check that passed. */
export const passed = (id: CheckId, detail: string, extra: Extra = {}): CheckResult => make(id, 'pass', detail, extra);
/** A check that found something worth knowing, but nothing that stops the setup from working. */
export const warned = (id: CheckId, detail: string, fix: string | null, extra: Extra = {}): CheckResult =>
  make(id, 'warn', detail, { ...extra, fix });
/** A check that failed, with what to change. */
export const failed = (id: CheckId, detail: string, fix: string, extra: Extra = {}): CheckResult =>
  make(id, 'fail', detail, { ...extra, fix });
/** A check that was not run because an earlier one failed. */
export const skipped = (id: CheckId, why: string, server: string | null): CheckResult => make(id, 'skip', `not run: ${why}`, { server });
