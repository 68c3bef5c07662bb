/**
 * `ratri init`, deciding without writing: which host files exist, what each server entry is, and
 * for the chosen stdio servers the new text of the host file and the ratri config each host gets
 * (docs/hosts.md#ratri-init). `--dry-run` prints this plan; init-apply.ts writes it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { defaultStorePath, ratriHome } from '../config/paths.js';
import type { ConfigFile, Mode, ServerEntry, UpstreamConfig } from '../config/types.js';
import { ratriLaunch } from '../node/ratri-launch.js';
import { judgeEntry } from './host-entry.js';
import { type HostId, hostFiles, type Machine, type ReadHostFile, readHostFile } from './host-files.js';
import { applyEdits, layoutOf, replaceCommand, serializeLike, type TextEdit } from './json-edit.js';
import { type JsonMember, JsonSyntaxError } from './json-spans.js';

export interface Selection {
  hosts: string[];
  servers: string[];
  /** Every stdio server of every host. */
  all: boolean;
  mode?: Mode;
}

export interface EntryPlan {
  /** The entry's name in the host file. */
  name: string;
  /** Where its server map is in the file, e.g. ["projects", "/home/me/app", "mcpServers"]. */
  map: string[];
  action: 'wrap' | 'wrapped' | 'leave' | 'not chosen';
  /** wrap: the `servers` key in the ratri config. */
  server?: string;
  why?: string;
}

export interface FilePlan {
  host: HostId;
  path: string;
  entries: EntryPlan[];
  before: Buffer;
  /** The new text, when an entry is wrapped. */
  after?: string;
  /** A problem that keeps the file from being read or rewritten. */
  problem?: string;
  /** The file has comments or trailing commas (JSONC): it is listed, never rewritten. */
  jsonc: boolean;
  /** A file that lives in a project folder (and may be shared through git). */
  inProject: boolean;
}

export interface ConfigPlan {
  host: HostId;
  path: string;
  before?: string;
  after: string;
}

export interface InitPlan {
  files: FilePlan[];
  configs: ConfigPlan[];
}

/** A file ratri init cannot work with (a ratri config it did not write); the message says what to do. */
export class InitError extends Error {
  override name = 'InitError';
}

/** Where `ratri init` writes the ratri config of a host. */
export const ratriConfigPath = (host: HostId): string => join(ratriHome(), `${host}.mcp.json`);

const chosen = (sel: Selection, host: HostId, name: string): boolean =>
  (sel.all || sel.hosts.length > 0 || sel.servers.length > 0) &&
  (sel.hosts.length === 0 || sel.hosts.includes(host)) &&
  (sel.servers.length === 0 || sel.servers.includes(name));

/** The ratri config a host has (written by an earlier init), or a new one. */
interface WorkingConfig {
  path: string;
  before?: string;
  file: ConfigFile;
  /** True once a server was added to it. */
  added: boolean;
}

function startConfig(host: HostId, mode: Mode | undefined): WorkingConfig {
  const path = ratriConfigPath(host);
  if (!existsSync(path))
    return { path, added: false, file: { agentKey: host, mode: mode ?? 'monitor', store: defaultStorePath(), servers: {} } };
  const before = readFileSync(path, 'utf8');
  let file: ConfigFile;
  try {
    file = JSON.parse(before) as ConfigFile;
  } catch (err) {
    throw new InitError(`${path}: not valid JSON (${(err as Error).message}); fix it, or move it away and run ratri init again`);
  }
  if (file === null || typeof file !== 'object' || 'upstream' in file) {
    throw new InitError(
      `${path}: ratri init keeps a "servers" map in this file, but it has an "upstream"; move the file away and run ratri init again`,
    );
  }
  return { path, before, added: false, file };
}

/** A `servers` key for an entry: its name in the letters ratri allows, made unique unless the same upstream is there already. */
function serverKey(config: ConfigFile, name: string, upstream: UpstreamConfig): string {
  const base = name.replace(/[^A-Za-z0-9_-]+/g, '_') || 'server';
  const servers = (config.servers ??= {});
  for (let n = 1; ; n++) {
    const key = n === 1 ? base : `${base}-${n}`;
    const existing = servers[key];
    if (!existing || isDeepStrictEqual(existing.upstream, upstream)) return key;
  }
}

const JSONC_WHY =
  'the file has comments or trailing commas (JSONC); ratri does not rewrite it, so they are not lost: wrap this entry by hand (docs/hosts.md)';

/** What happens to one entry; a wrapped one adds its edits and, when new, its server to the config. */
function planEntry(
  file: ReadHostFile,
  member: JsonMember,
  map: string[],
  sel: Selection,
  config: WorkingConfig,
  edits: TextEdit[],
): EntryPlan {
  const base = { name: member.key, map };
  const verdict = judgeEntry(member.value);
  if (verdict.kind === 'leave') return { ...base, action: 'leave', why: verdict.why };
  if (verdict.kind === 'wrapped')
    return { ...base, action: 'wrapped', why: `already starts ratri${verdict.server ? ` (--server ${verdict.server})` : ''}` };
  if (!chosen(sel, file.host, member.key)) return { ...base, action: 'not chosen' };
  if (file.doc.hasComments || file.doc.hasTrailingCommas) return { ...base, action: 'leave', why: JSONC_WHY };
  const key = serverKey(config.file, member.key, verdict.upstream);
  if (!config.file.servers![key]) {
    const entry: ServerEntry = { upstream: verdict.upstream };
    if (sel.mode !== undefined && sel.mode !== (config.file.mode ?? 'monitor')) entry.mode = sel.mode;
    config.file.servers![key] = entry;
    config.added = true;
  }
  const launch = ratriLaunch(config.path, key);
  edits.push(...replaceCommand(file.text, member.value, launch.command, launch.args));
  return { ...base, action: 'wrap', server: key };
}

function planFile(file: ReadHostFile, sel: Selection, config: WorkingConfig): FilePlan {
  const edits: TextEdit[] = [];
  const entries = file.maps.flatMap((map) =>
    map.node.kind === 'object' ? map.node.members.map((m) => planEntry(file, m, map.path, sel, config, edits)) : [],
  );
  const jsonc = file.doc.hasComments || file.doc.hasTrailingCommas;
  const plan: FilePlan = { host: file.host, path: file.path, entries, before: file.bytes, jsonc, inProject: false };
  if (edits.length > 0) plan.after = applyEdits(file.text, edits);
  return plan;
}

/** Reads every host file on the machine and plans the changes for the chosen servers. */
export function planInit(machine: Machine, sel: Selection): InitPlan {
  const files: FilePlan[] = [];
  const configs = new Map<HostId, WorkingConfig>();
  const seen = new Set<string>();
  for (const hostFile of hostFiles(machine)) {
    // With the project folder at home, ~/.cursor/mcp.json is both Cursor files: read it once.
    if (seen.has(hostFile.path)) continue;
    seen.add(hostFile.path);
    const inProject = hostFile.path.startsWith(machine.project + '/') || hostFile.path.startsWith(machine.project + '\\');
    let read: ReadHostFile | undefined;
    try {
      read = readHostFile(hostFile);
    } catch (err) {
      const why = err instanceof JsonSyntaxError ? `not valid JSON (${err.message})` : `cannot read it (${(err as Error).message})`;
      files.push({
        host: hostFile.host,
        path: hostFile.path,
        entries: [],
        before: Buffer.alloc(0),
        jsonc: false,
        inProject,
        problem: `${why}: left alone`,
      });
      continue;
    }
    if (!read) continue;
    let config = configs.get(read.host);
    if (!config) configs.set(read.host, (config = startConfig(read.host, sel.mode)));
    files.push({ ...planFile(read, sel, config), inProject });
  }
  const configPlans: ConfigPlan[] = [];
  for (const [host, config] of configs) {
    if (!config.added) continue;
    const after = serializeLike(config.file, config.before ? layoutOf(config.before) : { indent: '  ', newline: true });
    configPlans.push({ host, path: config.path, after, ...(config.before !== undefined ? { before: config.before } : {}) });
  }
  return { files, configs: configPlans };
}
