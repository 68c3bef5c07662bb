/**
 * `ratri doctor --mcp --host-config FILE`: for each entry of a host's config that starts ratri
 * (as `ratri init` writes them), the ratri config it names is checked, and the entry is launched
 * the way a host launches it — its command, args and env, a desktop app's short PATH, another
 * working directory — and spoken to through ratri: initialize, tools/list, the rule decisions
 * and the control plane (docs/doctor.md#a-host-config---host-config).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { UpstreamConfig } from '../config/types.js';
import { judgeEntry } from '../init/host-entry.js';
import { everyServerMap } from '../init/host-files.js';
import { JsonSyntaxError, nodeAt, plainValue, readJsonDocument } from '../init/json-spans.js';
import { type CheckResult, failed, skipped } from './check-result.js';
import { checkConfig, checkControlPlane, serverLabel } from './checks.js';
import { checkCollector, type DoctorOptions, type DoctorReport, mcpChecks } from './doctor.js';
import { DoctorAborted } from './mcp-checks.js';
import { checkRules } from './rules-check.js';

/** The PATH a desktop app gives the processes it starts (macOS launchd's), unless the entry sets one. */
export const HOST_PATH = '/usr/bin:/bin:/usr/sbin:/sbin';

interface WrappedEntry {
  name: string;
  launch: UpstreamConfig;
  config?: string;
  server?: string;
}

export interface HostDoctorOptions extends Omit<DoctorOptions, 'configPath'> {
  hostConfig: string;
}

/** The entries of the file that start ratri; a string when the file cannot be read. */
function wrappedEntries(path: string, only: string | undefined): WrappedEntry[] | string {
  let doc;
  try {
    doc = readJsonDocument(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return err instanceof JsonSyntaxError
      ? `not valid JSON: ${err.message}`
      : code === 'ENOENT'
        ? 'file not found'
        : (err as Error).message;
  }
  const entries: WrappedEntry[] = [];
  for (const mapPath of everyServerMap(doc)) {
    const map = nodeAt(doc.root, mapPath);
    if (map?.kind !== 'object') continue;
    for (const member of map.members) {
      const verdict = judgeEntry(member.value);
      if (verdict.kind !== 'wrapped' || (only !== undefined && member.key !== only)) continue;
      const e = plainValue(member.value) as { command: string; args?: string[]; env?: Record<string, string>; cwd?: string };
      const env = { ...(e.env ?? {}), PATH: e.env?.PATH ?? HOST_PATH };
      entries.push({
        name: member.key,
        launch: { command: e.command, args: e.args ?? [], env, cwd: e.cwd ?? homedir() },
        config: verdict.config,
        server: verdict.server,
      });
    }
  }
  return entries;
}

/** Runs the checks for every wrapped entry (or `--server NAME`'s). */
export async function runHostDoctor(options: HostDoctorOptions): Promise<DoctorReport> {
  const { report, done } = checkCollector(options, options.hostConfig);
  const entries = wrappedEntries(options.hostConfig, options.server);
  if (typeof entries === 'string') {
    report(
      failed(
        'host-entry',
        `${options.hostConfig}: ${entries}`,
        'give the path of a host config file (docs/hosts.md#where-ratri-init-looks)',
      ),
    );
    return done(false);
  }
  if (entries.length === 0) {
    const which = options.server !== undefined ? `no entry "${options.server}" that starts ratri` : 'no entry starts ratri';
    report(
      failed(
        'host-entry',
        `${options.hostConfig}: ${which}`,
        'wrap its servers with ratri init (or check --server), then run ratri doctor again',
      ),
    );
    return done(false);
  }
  try {
    for (const entry of entries) await checkEntry(entry, options, report);
  } catch (err) {
    if (!(err instanceof DoctorAborted)) throw err;
    options.onProgress?.(undefined);
    return done(true);
  }
  return done(false);
}

async function checkEntry(entry: WrappedEntry, options: HostDoctorOptions, report: (c: CheckResult) => void): Promise<void> {
  if (options.signal?.aborted) throw new DoctorAborted('interrupted');
  if (entry.config === undefined) {
    report(
      failed(
        'host-entry',
        `entry "${entry.name}" starts ratri without --config`,
        'give the entry "--config /absolute/path/ratri.mcp.json" (ratri init writes it)',
        { server: entry.name },
      ),
    );
    return;
  }
  const config = checkConfig(entry.config, entry.server);
  const s = config.servers[0];
  if (s) options.onSection?.({ ...s, entry: entry.name });
  report({ ...config.result, server: entry.name });
  if (!config.result.ok || !s) return;
  // The entry as the host launches it: the upstream check of this run is the entry's own command.
  const asHost = { entry: s.entry, config: { ...s.config, upstream: entry.launch, baseDir: dirname(resolve(options.hostConfig)) } };
  const asLaunched = `; launched as a host would: PATH=${entry.launch.env!.PATH}, in ${entry.launch.cwd}`;
  const relabel = (c: CheckResult): void =>
    report(
      c.id === 'upstream'
        ? { ...c, id: 'host-entry', title: 'host entry starts ratri', detail: c.detail + asLaunched, server: entry.name }
        : { ...c, server: entry.name },
    );
  const tools = await mcpChecks(asHost, options, relabel);
  if (options.signal?.aborted) throw new DoctorAborted('interrupted');
  if (tools) report({ ...checkRules(s.config, tools, serverLabel(s), { colour: options.colour, sharedRules: false }), server: entry.name });
  else report(skipped('rules', 'no tool list to decide about', entry.name));
  report({ ...(await checkControlPlane(s.config, config.file?.store !== undefined, options.timeoutMs, entry.name)), server: entry.name });
}
