// `ratri init` on copies of each host's real config format (fixtures/hosts/) in a temporary HOME:
// the wrapped entries are launched exactly as a host would launch them (the official SDK client with
// the entry's command, args and env, a PATH without node, another working directory) and list the
// same tools as the unwrapped ones; --dry-run and a second run change nothing; --undo gives back
// identical bytes (docs/hosts.md#ratri-init).
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, cliPath, everythingServer, root, runCli } from '../helpers/cli.js';

const { dir } = cleanUpAfterEach('ratri-init-');

interface Machine {
  home: string;
  project: string;
  env: Record<string, string>;
  /** Host file path → its bytes before init. */
  files: Map<string, Buffer>;
}

/** Where each fixture goes on a Linux machine (docs/hosts.md#where-ratri-init-looks). */
const PLACES: Array<[fixture: string, place: (home: string, project: string) => string]> = [
  ['claude_desktop_config.json', (h) => join(h, '.config', 'Claude', 'claude_desktop_config.json')],
  ['claude.json', (h) => join(h, '.claude.json')],
  ['claude-code-project.mcp.json', (_h, p) => join(p, '.mcp.json')],
  ['cursor-mcp.json', (h) => join(h, '.cursor', 'mcp.json')],
  ['vscode-mcp.json', (_h, p) => join(p, '.vscode', 'mcp.json')],
  ['vscode-settings.json', (h) => join(h, '.config', 'Code', 'User', 'settings.json')],
  ['windsurf-mcp_config.json', (h) => join(h, '.codeium', 'windsurf', 'mcp_config.json')],
];

function machine(): Machine {
  const base = dir();
  const home = join(base, 'home');
  const project = join(base, 'project');
  const files = new Map<string, Buffer>();
  for (const [fixture, place] of PLACES) {
    const text = readFileSync(join(root, 'fixtures', 'hosts', fixture), 'utf8')
      .replaceAll('@NODE@', process.execPath)
      .replaceAll('@EVERYTHING@', everythingServer)
      .replaceAll('@PROJECT@', project);
    const path = place(home, project);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    files.set(path, Buffer.from(text));
  }
  return { home, project, files, env: { HOME: home, RATRI_HOME: join(home, '.ratri') } };
}

const init = (m: Machine, ...args: string[]) => runCli(['init', '--project', m.project, ...args], '', m.env, 60_000);

const unchanged = (m: Machine): string[] => [...m.files].filter(([path, bytes]) => !readFileSync(path).equals(bytes)).map(([path]) => path);

type Entry = { command: string; args?: string[]; env?: Record<string, string> };

/** Launches a host entry as a host does, from another folder with a PATH that has no node in it, and lists its tools. */
async function toolsOf(entry: Entry, m: Machine): Promise<string[]> {
  const emptyBin = join(m.home, 'empty-bin');
  mkdirSync(emptyBin, { recursive: true });
  const transport = new StdioClientTransport({
    command: entry.command,
    args: entry.args ?? [],
    env: { PATH: emptyBin, HOME: m.home, ...entry.env },
    cwd: dirname(m.home),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const client = new Client({ name: 'init-e2e-host', version: '1' });
  try {
    await client.connect(transport);
    return (await client.listTools()).tools.map((t) => JSON.stringify(t));
  } catch (err) {
    throw new Error(`${(err as Error).message}\nstderr: ${stderr}`);
  } finally {
    await client.close();
  }
}

const json = (path: string): Record<string, any> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;

describe('ratri init', () => {
  it('lists every host and server, and without a choice changes nothing', async () => {
    const m = machine();
    const r = await init(m);
    expect(r.code).toBe(0);
    for (const path of m.files.keys()) expect(r.stdout).toContain(path);
    expect(r.stdout).toContain('  · everything: stdio server, not chosen');
    expect(r.stdout).toContain('  - linear: left alone: an HTTP/SSE server (https://mcp.linear.app/sse)');
    expect(r.stdout).toContain('  - figma: left alone: an HTTP/SSE server (https://figma.example.com/mcp/sse)');
    expect(r.stdout).toContain('  - api-server: left alone: "${HOME}/bin/api-mcp" has a ${…} variable only the host expands');
    expect(r.stdout).toContain('settings.json (has comments or trailing commas: listed, never rewritten)');
    expect(r.stdout).toContain('Nothing chosen: ratri init --yes wraps every stdio server above');
    expect(unchanged(m)).toEqual([]);
    expect(existsSync(join(m.home, '.ratri'))).toBe(false);
    // With the project folder at home, ~/.cursor/mcp.json is both Cursor files: listed once.
    const atHome = await init({ ...m, project: m.home });
    expect(atHome.stdout.split(`Cursor: ${join(m.home, '.cursor', 'mcp.json')}\n`)).toHaveLength(2);
  });

  it('--dry-run prints the diff and changes nothing', async () => {
    const m = machine();
    const r = await init(m, '--yes', '--dry-run');
    expect(r.code).toBe(0);
    const desktop = join(m.home, '.config', 'Claude', 'claude_desktop_config.json');
    const ratriConfig = join(m.home, '.ratri', 'claude-desktop.mcp.json');
    expect(r.stdout).toContain(`--- /dev/null\n+++ ${ratriConfig}`);
    expect(r.stdout).toContain(`--- ${desktop}\n+++ ${desktop}`);
    expect(r.stdout).toContain(`-      "args": [${JSON.stringify(everythingServer)}],`);
    expect(r.stdout).toContain(
      `+      "args": [${JSON.stringify(cliPath)}, "mcp", "proxy", "--config", ${JSON.stringify(ratriConfig)}, "--server", "everything"],`,
    );
    expect(r.stdout).toContain('-      "command": "docker",');
    expect(r.stdout).toContain('Dry run: nothing was changed.');
    expect(unchanged(m)).toEqual([]);
    expect(existsSync(join(m.home, '.ratri'))).toBe(false);
  });

  it('wraps every stdio server: the wrapped entry, launched as the host would, lists the same tools; a second run changes nothing; --undo restores every byte', async () => {
    const m = machine();
    // The JSON files as parsed before init (settings.json is JSONC: it is compared as bytes below).
    const originals = new Map(
      [...m.files]
        .filter(([path]) => !path.endsWith('settings.json'))
        .map(([path, bytes]) => [path, JSON.parse(bytes.toString('utf8')) as Record<string, any>]),
    );
    const desktopPath = join(m.home, '.config', 'Claude', 'claude_desktop_config.json');
    const desktopMode = statSync(desktopPath).mode;
    const r = await init(m, '--yes');
    expect(r.code).toBe(0);
    const desktop = json(desktopPath);
    const ratriConfig = join(m.home, '.ratri', 'claude-desktop.mcp.json');
    // Unknown keys, env and the entries ratri does not wrap are kept; only command and args changed.
    expect(desktop.globalShortcut).toBe('Ctrl+Space');
    expect(desktop.mcpServers.everything).toEqual({
      command: process.execPath,
      args: [cliPath, 'mcp', 'proxy', '--config', ratriConfig, '--server', 'everything'],
      env: { EVERYTHING_FIXTURE: 'claude-desktop' },
    });
    expect(statSync(ratriConfig).mode & 0o777).toBe(0o600);
    expect(statSync(desktopPath).mode).toBe(desktopMode);
    expect(json(ratriConfig)).toEqual({
      agentKey: 'claude-desktop',
      mode: 'monitor',
      store: join(m.home, '.ratri', 'ratri.db'),
      servers: {
        everything: { upstream: { command: process.execPath, args: [everythingServer] } },
        github: {
          upstream: {
            command: 'docker',
            args: ['run', '-i', '--rm', '-e', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'ghcr.io/github/github-mcp-server'],
          },
        },
      },
    });
    const claudeCode = json(join(m.home, '.claude.json'));
    expect(claudeCode.mcpServers.linear).toEqual({ type: 'sse', url: 'https://mcp.linear.app/sse' });
    expect(claudeCode.projects[m.project].mcpServers.sentry).toEqual({ type: 'http', url: 'https://mcp.sentry.dev/mcp' });
    expect(claudeCode.projects[m.project].hasTrustDialogAccepted).toBe(true);
    const vscode = json(join(m.project, '.vscode', 'mcp.json'));
    expect(vscode.inputs).toEqual(originals.get(join(m.project, '.vscode', 'mcp.json'))!.inputs);
    expect(vscode.servers.perplexity).toMatchObject({
      type: 'stdio',
      env: { PERPLEXITY_API_KEY: '${input:perplexity-key}' },
      envFile: '${workspaceFolder}/.env',
    });
    expect(json(join(m.home, '.codeium', 'windsurf', 'mcp_config.json')).mcpServers.everything).toMatchObject({
      disabled: false,
      alwaysAllow: [],
    });
    // The JSONC settings file and the entry with host variables are not touched.
    const settings = join(m.home, '.config', 'Code', 'User', 'settings.json');
    expect(readFileSync(settings).equals(m.files.get(settings)!)).toBe(true);
    expect(json(join(m.project, '.mcp.json')).mcpServers['api-server']).toEqual(
      originals.get(join(m.project, '.mcp.json'))!.mcpServers['api-server'],
    );

    // Each wrapped everything entry against the unwrapped one, as the host launches them.
    const everything = [
      [desktopPath, ['mcpServers', 'everything']],
      [join(m.home, '.claude.json'), ['projects', m.project, 'mcpServers', 'everything-local']],
      [join(m.home, '.cursor', 'mcp.json'), ['mcpServers', 'everything']],
      [join(m.project, '.vscode', 'mcp.json'), ['servers', 'everything']],
      [join(m.home, '.codeium', 'windsurf', 'mcp_config.json'), ['mcpServers', 'everything']],
    ] as const;
    const at = (value: Record<string, any>, path: readonly string[]): Entry => path.reduce((v, k) => v[k], value) as Entry;
    const expected = await toolsOf(at(originals.get(desktopPath)!, ['mcpServers', 'everything']), m);
    expect(expected.length).toBeGreaterThan(3);
    for (const [path, keys] of everything) {
      const wrapped = at(json(path), keys);
      expect(wrapped.command).toBe(process.execPath);
      expect(wrapped.args?.slice(0, 3)).toEqual([cliPath, 'mcp', 'proxy']);
      expect(await toolsOf(wrapped, m)).toEqual(expected);
    }

    const ratriFiles = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf'].map((h) =>
      join(m.home, '.ratri', `${h}.mcp.json`),
    );
    const afterFirst = new Map([...m.files.keys(), ...ratriFiles].map((p) => [p, readFileSync(p)]));
    const again = await init(m, '--yes');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('  = everything: already starts ratri (--server everything)');
    expect(again.stdout).toContain('Nothing to change.');
    expect([...afterFirst].filter(([p, bytes]) => !readFileSync(p).equals(bytes))).toEqual([]);

    const undo = await runCli(['init', '--undo'], '', m.env);
    expect(undo.code).toBe(0);
    expect(undo.stdout).toContain(`restored ${desktopPath}`);
    expect(undo.stdout).toContain(`removed ${ratriConfig} (ratri init had created it)`);
    expect(unchanged(m)).toEqual([]);
    expect(existsSync(ratriConfig)).toBe(false);
    expect((await runCli(['init', '--undo'], '', m.env)).stdout).toContain('Nothing to undo');
  }, 180_000);

  it('wraps only the chosen host and server, in enforce mode with --mode enforce', async () => {
    const m = machine();
    const r = await init(m, '--host', 'cursor', '--server', 'everything', '--mode', 'enforce');
    expect(r.code).toBe(0);
    const cursor = join(m.home, '.cursor', 'mcp.json');
    expect(unchanged(m)).toEqual([cursor]);
    // The tab-indented file keeps its tabs: only the args value changed.
    const text = readFileSync(cursor, 'utf8');
    const before = m.files.get(cursor)!.toString('utf8');
    expect(text.replace(/"args": \[[^\]]*\]/, '')).toBe(before.replace(/"args": \[[^\]]*\]/, ''));
    expect(json(join(m.home, '.ratri', 'cursor.mcp.json')).mode).toBe('enforce');
    expect(r.stdout).toContain(`Check a host's entries end to end: ratri doctor --mcp --host-config ${cursor}.`);

    // A later run adds to the host's config; a server in another mode than the file's gets its own.
    expect((await init(m, '--host', 'claude-code', '--server', 'everything')).code).toBe(0);
    expect((await init(m, '--host', 'claude-code', '--server', 'everything-local', '--mode', 'enforce')).code).toBe(0);
    const claudeCode = json(join(m.home, '.ratri', 'claude-code.mcp.json'));
    expect(claudeCode.mode).toBe('monitor');
    expect(claudeCode.servers.everything.mode).toBeUndefined();
    expect(claudeCode.servers['everything-local'].mode).toBe('enforce');

    // ratri doctor knows the host file: the wrapped entry is launched as the host would and checked end to end.
    const doctor = await runCli(['doctor', '--mcp', '--host-config', cursor, '--json'], '', m.env, 60_000);
    expect(doctor.code).toBe(0);
    const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ id: string; level: string; server: string; detail: string }> }).checks;
    expect(checks.map((c) => [c.id, c.level, c.server])).toEqual(
      ['config', 'host-entry', 'initialize', 'tools', 'rules', 'control-plane'].map((id) => [id, 'pass', 'everything']),
    );
    expect(checks[1]!.detail).toContain(
      `${process.execPath} ${cliPath} mcp proxy --config ${join(m.home, '.ratri', 'cursor.mcp.json')} --server everything`,
    );
    expect(checks[1]!.detail).toContain('launched as a host would: PATH=/usr/bin:/bin:/usr/sbin:/sbin');
    expect(checks[3]!.detail).toMatch(/^\d+ tools/);
    // A wrapped entry whose ratri config is gone fails on the config, before anything is started.
    rmSync(join(m.home, '.ratri', 'cursor.mcp.json'));
    const gone = await runCli(['doctor', '--mcp', '--host-config', cursor], '', m.env);
    expect(gone.code).toBe(1);
    expect(gone.stdout).toContain('✗ config valid:');
    expect(gone.stdout).toContain('(file): cannot read it: file not found');
    // A host file with nothing wrapped fails, and says what to run.
    const windsurf = join(m.home, '.codeium', 'windsurf', 'mcp_config.json');
    const none = await runCli(['doctor', '--mcp', '--host-config', windsurf], '', m.env);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain(`✗ host entry starts ratri: ${windsurf}: no entry starts ratri`);
    expect(none.stdout).toContain('fix: wrap its servers with ratri init');
    const wrong = await init(m, '--host', 'emacs');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--host: unknown host "emacs"; the hosts are claude-desktop, claude-code, cursor, vscode, windsurf');
    const missing = await init(m, '--server', 'nope');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--server: no server named "nope" in the host configs found');
  });

  it('leaves a host file that is not JSON alone, and stops at a ratri config it did not write', async () => {
    const m = machine();
    const windsurf = join(m.home, '.codeium', 'windsurf', 'mcp_config.json');
    writeFileSync(windsurf, '{ "mcpServers": ');
    m.files.set(windsurf, Buffer.from('{ "mcpServers": '));
    const listed = await init(m);
    expect(listed.stdout).toContain(`Windsurf: ${windsurf}\n  not valid JSON (expected a JSON value at line 1, column 17): left alone`);
    mkdirSync(join(m.home, '.ratri'), { recursive: true });
    writeFileSync(join(m.home, '.ratri', 'cursor.mcp.json'), JSON.stringify({ agentKey: 'me', upstream: { command: 'x' } }));
    const r = await init(m, '--yes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'cursor.mcp.json: ratri init keeps a "servers" map in this file, but it has an "upstream"; move the file away',
    );
    expect(unchanged(m)).toEqual([]);
  });

  it('--undo leaves a file changed since init alone, unless --force', async () => {
    const m = machine();
    expect((await init(m, '--host', 'windsurf', '--yes')).code).toBe(0);
    const windsurf = join(m.home, '.codeium', 'windsurf', 'mcp_config.json');
    writeFileSync(windsurf, `${readFileSync(windsurf, 'utf8')}\n`);
    const undo = await runCli(['init', '--undo'], '', m.env);
    expect(undo.code).toBe(1);
    expect(undo.stdout).toContain(`left ${windsurf}: it changed since ratri init wrote it`);
    expect(readFileSync(windsurf).equals(m.files.get(windsurf)!)).toBe(false);
    const forced = await runCli(['init', '--undo', '--force'], '', m.env);
    expect(forced.code).toBe(0);
    expect(unchanged(m)).toEqual([]);
  });
});
