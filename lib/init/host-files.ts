/**
 * Where each MCP host keeps its servers on this machine, per operating system, and under which keys
 * of the file (docs/hosts.md#ratri-init). `ratri init` and `ratri doctor --host-config` read these.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { type JsonDocument, type JsonNode, nodeAt, readJsonDocument } from './json-spans.js';

export type HostId = 'claude-desktop' | 'claude-code' | 'cursor' | 'vscode' | 'windsurf';

export const HOST_IDS: readonly HostId[] = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf'];

export const HOST_TITLES: Readonly<Record<HostId, string>> = {
  'claude-desktop': 'Claude Desktop',
  'claude-code': 'Claude Code',
  cursor: 'Cursor',
  vscode: 'VS Code',
  windsurf: 'Windsurf',
};

/** One file a host reads servers from. */
export interface HostFile {
  host: HostId;
  path: string;
  /** The key paths of the server maps in it (Claude Code's ~/.claude.json has one per project). */
  serverMaps: (doc: JsonDocument) => string[][];
}

export interface Machine {
  home: string;
  platform: NodeJS.Platform;
  /** `%APPDATA%` on Windows. */
  appData?: string;
  /** The project folder whose `.mcp.json`, `.cursor/mcp.json` and `.vscode/mcp.json` are read. */
  project: string;
}

export function thisMachine(project: string): Machine {
  return { home: homedir(), platform: process.platform, appData: process.env.APPDATA, project: resolve(project) };
}

/** The per-user application-data folder: `~/Library/Application Support`, `%APPDATA%`, `~/.config`. */
function appFolder(m: Machine): string {
  if (m.platform === 'darwin') return join(m.home, 'Library', 'Application Support');
  if (m.platform === 'win32') return m.appData ?? join(m.home, 'AppData', 'Roaming');
  return join(m.home, '.config');
}

const at =
  (...path: string[]) =>
  (): string[][] => [path];

/** Claude Code: user servers at the top, and `projects[folder].mcpServers` for each project. */
function claudeCodeMaps(doc: JsonDocument): string[][] {
  const projects = nodeAt(doc.root, ['projects']);
  const perProject = projects?.kind === 'object' ? projects.members.map((p) => ['projects', p.key, 'mcpServers']) : [];
  return [['mcpServers'], ...perProject];
}

/** The server maps of a host file, whichever host it belongs to (for `ratri doctor --host-config`). */
export function everyServerMap(doc: JsonDocument): string[][] {
  return [...claudeCodeMaps(doc), ['servers'], ['mcp', 'servers']];
}

/** Every file the hosts may read on this machine, found or not. */
export function hostFiles(m: Machine): HostFile[] {
  const app = appFolder(m);
  const vscodeUser = join(app, 'Code', 'User');
  return [
    { host: 'claude-desktop', path: join(app, 'Claude', 'claude_desktop_config.json'), serverMaps: at('mcpServers') },
    { host: 'claude-code', path: join(m.home, '.claude.json'), serverMaps: claudeCodeMaps },
    { host: 'claude-code', path: join(m.project, '.mcp.json'), serverMaps: at('mcpServers') },
    { host: 'cursor', path: join(m.home, '.cursor', 'mcp.json'), serverMaps: at('mcpServers') },
    { host: 'cursor', path: join(m.project, '.cursor', 'mcp.json'), serverMaps: at('mcpServers') },
    { host: 'vscode', path: join(m.project, '.vscode', 'mcp.json'), serverMaps: at('servers') },
    { host: 'vscode', path: join(vscodeUser, 'mcp.json'), serverMaps: at('servers') },
    { host: 'vscode', path: join(vscodeUser, 'settings.json'), serverMaps: at('mcp', 'servers') },
    { host: 'windsurf', path: join(m.home, '.codeium', 'windsurf', 'mcp_config.json'), serverMaps: at('mcpServers') },
  ];
}

/** A host file as read: its bytes, its JSON with positions, and its server maps. */
export interface ReadHostFile extends HostFile {
  bytes: Buffer;
  text: string;
  doc: JsonDocument;
  maps: Array<{ path: string[]; node: JsonNode }>;
}

/** Reads a host file; undefined when it does not exist. Throws JsonSyntaxError for a file that is not JSON. */
export function readHostFile(file: HostFile): ReadHostFile | undefined {
  if (!existsSync(file.path)) return undefined;
  const bytes = readFileSync(file.path);
  const text = bytes.toString('utf8');
  const doc = readJsonDocument(text);
  const maps = file
    .serverMaps(doc)
    .map((path) => ({ path, node: nodeAt(doc.root, path) }))
    .filter((m): m is { path: string[]; node: JsonNode } => m.node?.kind === 'object');
  return { ...file, bytes, text, doc, maps };
}
