/**
 * The throwaway world of `ratri demo`: a temp folder with a sandbox of a couple of files, the
 * config the proxy runs with (the shipped examples/demo/ratri.demo.json, filled in), and the store.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ratriHome } from '../config/paths.js';
import type { ConfigFile } from '../config/types.js';
import { packageRoot } from '../node/package-files.js';
import { makeParentFolders } from '../node/private-files.js';

export interface DemoWorkspace {
  /** The temp folder holding everything below (except a kept store). */
  dir: string;
  /** The folder the demo server may read and write in. */
  sandbox: string;
  /** The filled-in config the proxy is started with. */
  config: string;
  /** The SQLite store: in `dir`, or `$RATRI_HOME/demo.db` when the run is kept. */
  store: string;
  /** The rules as the config has them, for the intro lines. */
  rules: ConfigFile['guardrails'];
  redactKeys: string[];
}

/** Files the sandbox starts with; the demo reads the first. */
export const SANDBOX_FILES: Record<string, string> = {
  'notes.txt': 'Welcome to the ratri demo sandbox. The agent may read this file freely.\n',
  'todo.md': '- [ ] put ratri in front of a real MCP server\n',
};

/** The shipped demo server and its config template. */
export const demoServerPath = (): string => join(packageRoot, 'examples', 'demo', 'demo-server.mjs');
export const demoConfigTemplate = (): string => join(packageRoot, 'examples', 'demo', 'ratri.demo.json');

/** The store a kept run writes to: beside the default store, never the default store itself. */
export const keptStorePath = (): string => join(ratriHome(), 'demo.db');

/**
 * Creates the workspace. The template's rules, mode and redactKeys are used as shipped; the upstream
 * gets absolute paths (the proxy may be started from any folder) and the sandbox in its environment.
 */
export function createWorkspace(keep: boolean): DemoWorkspace {
  const dir = mkdtempSync(join(tmpdir(), 'ratri-demo-'));
  try {
    const sandbox = join(dir, 'sandbox');
    mkdirSync(sandbox);
    for (const [name, text] of Object.entries(SANDBOX_FILES)) writeFileSync(join(sandbox, name), text);
    const store = keep ? keptStorePath() : join(dir, 'demo.db');
    if (keep) makeParentFolders(store); // $RATRI_HOME, 0700 like every folder ratri makes
    const template = JSON.parse(readFileSync(demoConfigTemplate(), 'utf8')) as ConfigFile & { $schema?: string };
    const config: ConfigFile & { $schema?: string } = {
      ...template,
      $schema: join(packageRoot, 'schemas', 'ratri.mcp.schema.json'),
      upstream: { command: process.execPath, args: [demoServerPath()], cwd: sandbox, env: { DEMO_SANDBOX: sandbox } },
      store,
    };
    const configPath = join(dir, 'ratri.demo.json');
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
    return { dir, sandbox, config: configPath, store, rules: config.guardrails, redactKeys: config.redactKeys ?? [] };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Deletes the temp folder (a kept store lives elsewhere and is not touched). */
export function removeWorkspace(ws: DemoWorkspace): void {
  rmSync(ws.dir, { recursive: true, force: true });
}
