/**
 * The four ways the benchmark reaches the upstream, and the ratri configs it writes for them.
 * Shared by run.mjs (the benchmark) and profile.mjs (a CPU profile of one variant).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const root = resolve(benchDir, '..');
export const ratriCli = join(root, 'dist', 'cli', 'ratri.js');
export const byteRelay = join(benchDir, 'byte-relay.mjs');
export const everything = join(root, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');

export function ratriConfigs(dir) {
  const upstream = { command: process.execPath, args: [everything, 'stdio'] };
  const monitor = join(dir, 'monitor.ratri.mcp.json');
  writeFileSync(
    monitor,
    JSON.stringify({ agentKey: 'bench', serverName: 'everything', mode: 'monitor', upstream, guardrails: { rules: [] } }, null, 2),
  );
  const telemetryFile = join(dir, 'enforce-events.jsonl');
  const enforce = join(dir, 'enforce.ratri.mcp.json');
  writeFileSync(
    enforce,
    JSON.stringify(
      {
        agentKey: 'bench',
        serverName: 'everything',
        mode: 'enforce',
        environment: 'development',
        upstream,
        redactKeys: ['password', 'token', 'apiKey'],
        guardrails: {
          rules: [
            { id: 'no-env-dump', tool: 'get-env', decision: 'block', reason: 'environment variables may hold secrets' },
            { id: 'echo-secrets', tool: 'echo', args: { message: { regex: '[Pp]assword|BEGIN [A-Z ]*PRIVATE KEY' } }, decision: 'block' },
            { id: 'confirm-long-tasks', tool: 'trigger-long-running-operation', decision: 'require_approval' },
            { id: 'no-sampling', tool: 'trigger-sampling-*', decision: 'block' },
          ],
        },
        telemetry: { jsonl: telemetryFile },
      },
      null,
      2,
    ),
  );
  return { monitor, enforce, telemetryFile };
}

/**
 * All variants, or the subset named in BENCH_VARIANTS (the relay, the baseline, is always kept).
 * `nodeArgs` are given to the middle process (relay or ratri), e.g. --cpu-prof; never to the upstream.
 */
export function defineVariants(dir, nodeArgs = []) {
  const configs = ratriConfigs(dir);
  const all = [
    { name: 'direct', label: 'direct (no proxy)', command: process.execPath, args: [everything, 'stdio'], proxy: false },
    { name: 'relay', label: 'byte relay (baseline)', command: process.execPath, args: [...nodeArgs, byteRelay, process.execPath, everything, 'stdio'], proxy: true },
    { name: 'monitor', label: 'ratri monitor', command: process.execPath, args: [...nodeArgs, ratriCli, 'mcp', 'proxy', '--config', configs.monitor], proxy: true, ratri: true },
    {
      name: 'enforce',
      label: 'ratri enforce (4 rules, telemetry)',
      command: process.execPath,
      args: [...nodeArgs, ratriCli, 'mcp', 'proxy', '--config', configs.enforce],
      proxy: true,
      ratri: true,
      enforce: true,
      telemetryFile: configs.telemetryFile,
    },
  ];
  const wanted = (process.env.BENCH_VARIANTS || '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of wanted) if (!all.some((v) => v.name === w)) throw new Error(`BENCH_VARIANTS: unknown variant "${w}" (known: ${all.map((v) => v.name).join(', ')})`);
  return wanted.length === 0 ? all : all.filter((v) => v.name === 'relay' || wanted.includes(v.name));
}

