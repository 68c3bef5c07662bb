/**
 * `ratri init`: lists the hosts' servers, and for the chosen ones prints the changes (`--dry-run`)
 * or writes them, ratri configs first so a host entry never names a config that is not there yet
 * (docs/hosts.md#ratri-init).
 */
import { launchCaveat } from '../node/ratri-launch.js';
import { HOST_IDS, HOST_TITLES, type Machine } from './host-files.js';
import { writeWithBackup } from './init-backups.js';
import { type EntryPlan, type FilePlan, type InitPlan, planInit, type Selection } from './init-plan.js';
import { unifiedDiff } from './text-diff.js';

export class InitUsageError extends Error {
  override name = 'InitUsageError';
}

export interface InitOptions extends Selection {
  dryRun: boolean;
}

const MARKS: Record<EntryPlan['action'], string> = { wrap: '+', wrapped: '=', leave: '-', 'not chosen': '·' };

function entryLine(e: EntryPlan, dryRun: boolean): string {
  const what =
    e.action === 'wrap'
      ? `${dryRun ? 'would be wrapped' : 'wrapped'}: ratri server "${e.server}"`
      : e.action === 'not chosen'
        ? 'stdio server, not chosen'
        : e.action === 'leave'
          ? `left alone: ${e.why}`
          : e.why!;
  return `  ${MARKS[e.action]} ${e.name}: ${what}`;
}

/** The listing of one host file. */
function fileLines(f: FilePlan, dryRun: boolean): string[] {
  const lines = [`${HOST_TITLES[f.host]}: ${f.path}${f.jsonc ? ' (has comments or trailing commas: listed, never rewritten)' : ''}`];
  if (f.problem) return [...lines, `  ${f.problem}`];
  if (f.entries.length === 0) return [...lines, '  (no servers)'];
  let map = '';
  for (const e of f.entries) {
    const label = e.map.join('.');
    if (label !== map && f.entries.some((x) => x.map.join('.') !== e.map.join('.')))
      lines.push(` ${e.map.map((k) => (/^[\w-]+$/.test(k) ? k : JSON.stringify(k))).join(' › ')}:`);
    map = label;
    lines.push(entryLine(e, dryRun));
  }
  if (f.after !== undefined && f.inProject)
    lines.push('  note: this file is in the project folder; if it is shared (git), the rewritten entries name paths on this machine');
  return lines;
}

function checkSelection(plan: InitPlan, sel: Selection): void {
  const unknownHosts = sel.hosts.filter((h) => !(HOST_IDS as readonly string[]).includes(h));
  if (unknownHosts.length > 0)
    throw new InitUsageError(`--host: unknown host "${unknownHosts.join('", "')}"; the hosts are ${HOST_IDS.join(', ')}`);
  const names = new Set(plan.files.flatMap((f) => f.entries.map((e) => e.name)));
  const unknownServers = sel.servers.filter((s) => !names.has(s));
  if (unknownServers.length > 0) {
    throw new InitUsageError(
      `--server: no server named "${unknownServers.join('", "')}" in the host configs found; the names are: ${[...names].join(', ') || '(none)'}`,
    );
  }
}

/** The diffs of what would be written. */
function dryRunLines(plan: InitPlan, changed: FilePlan[]): string[] {
  const out: string[] = [];
  for (const c of plan.configs) out.push(unifiedDiff(c.path, c.before, c.after), '');
  for (const f of changed) out.push(unifiedDiff(f.path, f.before.toString('utf8'), f.after!), '');
  return [...out, 'Dry run: nothing was changed.'];
}

/** Writes the ratri configs, then the host files that name them; returns what was done. */
function apply(plan: InitPlan, changed: FilePlan[]): string[] {
  const out: string[] = [];
  for (const c of plan.configs) {
    writeWithBackup(c.path, c.after);
    out.push(`wrote ${c.path}${c.before === undefined ? ' (new)' : ''}`);
  }
  for (const f of changed) out.push(`rewrote ${f.path} (the original is kept in ${writeWithBackup(f.path, f.after!)})`);
  const caveat = launchCaveat();
  if (caveat) out.push(`warning: ${caveat}`);
  const check = ` Check a host's entries end to end: ratri doctor --mcp --host-config ${changed[0]?.path ?? 'FILE'}.`;
  return [...out, '', `Restart the hosts to use ratri.${check} Undo: ratri init --undo.`];
}

/** Runs init and returns what to print. Throws InitUsageError for a wrong --host or --server. */
export function runInit(machine: Machine, options: InitOptions): string {
  const plan = planInit(machine, options);
  checkSelection(plan, options);
  if (plan.files.length === 0) return 'No MCP host config found on this machine (see docs/hosts.md#ratri-init for where ratri init looks).';
  const out = plan.files.flatMap((f) => [...fileLines(f, options.dryRun), '']);
  const changed = plan.files.filter((f) => f.after !== undefined);
  if (!options.all && options.hosts.length === 0 && options.servers.length === 0) {
    out.push(
      'Nothing chosen: ratri init --yes wraps every stdio server above, --host NAME or --server NAME picks some; add --dry-run to see the changes first.',
    );
  } else if (changed.length === 0 && plan.configs.length === 0) {
    out.push('Nothing to change.');
  } else {
    out.push(...(options.dryRun ? dryRunLines(plan, changed) : apply(plan, changed)));
  }
  return out.join('\n');
}
