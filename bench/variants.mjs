/**
 * The ways the benchmark reaches the upstream, and the ratri configs it writes for them.
 * Shared by run.mjs (the benchmark) and profile.mjs (a CPU profile of one variant).
 *
 * Every ratri variant gets its own SQLite store inside the benchmark's temp dir (`store` in its
 * config, and RATRI_HOME set to the temp dir in its environment as well), so the benchmark never
 * touches the user's ~/.ratri and no two variants write to the same file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const root = resolve(benchDir, '..');
export const ratriCli = join(root, 'dist', 'cli', 'ratri.js');
export const byteRelay = join(benchDir, 'byte-relay.mjs');
export const mcpProxyStdio = join(benchDir, 'mcp-proxy-stdio.mjs');
export const everything = join(root, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');

/** The same four rules for every enforcing variant. */
const ENFORCE_RULES = [
  { id: 'no-env-dump', tool: 'get-env', decision: 'block', reason: 'environment variables may hold secrets' },
  { id: 'echo-secrets', tool: 'echo', args: { message: { regex: '[Pp]assword|BEGIN [A-Z ]*PRIVATE KEY' } }, decision: 'block' },
  { id: 'confirm-long-tasks', tool: 'trigger-long-running-operation', decision: 'require_approval' },
  { id: 'no-sampling', tool: 'trigger-sampling-*', decision: 'block' },
];

function writeConfig(dir, name, config) {
  const file = join(dir, `${name}.ratri.mcp.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export function ratriConfigs(dir) {
  const upstream = { command: process.execPath, args: [everything, 'stdio'] };
  const stores = {
    monitor: join(dir, 'monitor.db'),
    enforce: join(dir, 'enforce.db'),
    store: join(dir, 'store.db'),
    results: join(dir, 'results.db'),
  };
  const monitor = writeConfig(dir, 'monitor', {
    agentKey: 'bench',
    serverName: 'everything',
    mode: 'monitor',
    upstream,
    guardrails: { rules: [] },
    store: stores.monitor,
  });
  const telemetryFile = join(dir, 'enforce-events.jsonl');
  const enforceBase = {
    agentKey: 'bench',
    serverName: 'everything',
    mode: 'enforce',
    environment: 'development',
    upstream,
    redactKeys: ['password', 'token', 'apiKey'],
  };
  const enforce = writeConfig(dir, 'enforce', {
    ...enforceBase,
    guardrails: { rules: ENFORCE_RULES },
    telemetry: { jsonl: telemetryFile },
    store: stores.enforce,
  });
  // The default setup a user gets: events to the store only (no JSONL), plus a template that reads
  // the store's tool registry on every tools/call.
  const store = writeConfig(dir, 'store', {
    ...enforceBase,
    guardrails: { rules: [...ENFORCE_RULES, { template: 'block_changed_tool_definitions' }] },
    store: stores.store,
  });
  // Result-phase rules (docs/policy.md#phases-call-and-result): every echo answer is read strictly,
  // scanned for secrets and matched against a regex before the host gets it.
  const results = writeConfig(dir, 'results', {
    ...enforceBase,
    guardrails: {
      rules: [
        ...ENFORCE_RULES,
        { id: 'no-secrets-out', on: 'result', tool: 'echo', content: { secrets: true }, decision: 'redact' },
        { id: 'no-keys-out', on: 'result', tool: 'echo', content: { regex: 'BEGIN [A-Z ]*PRIVATE KEY' }, decision: 'block' },
      ],
    },
    store: stores.results,
  });
  return { monitor, enforce, store, results, telemetryFile, stores };
}

/**
 * All variants, or the subset named in BENCH_VARIANTS (the relay, the baseline, is always kept).
 * `nodeArgs` are given to the middle process (relay or ratri), e.g. --cpu-prof; never to the upstream.
 * `env` (ratri variants only) is the environment to start the variant with; the others inherit the benchmark's.
 * `skipMemory` leaves a variant out of the RSS measurement. `storeFile` is the variant's SQLite store; `enforce` makes the benchmark prove the policy is live
 * (get-env blocked); `toolRegistry` makes it check that the tool registry holds `echo` before measuring.
 */
export function defineVariants(dir, nodeArgs = []) {
  const configs = ratriConfigs(dir);
  const env = { ...process.env, RATRI_HOME: dir };
  const ratri = (config, cli = ratriCli) => ({
    command: process.execPath,
    args: [...nodeArgs, cli, 'mcp', 'proxy', '--config', config],
    env,
    proxy: true,
    ratri: true,
  });
  const all = [
    { name: 'direct', label: 'direct (no proxy)', command: process.execPath, args: [everything, 'stdio'], proxy: false },
    {
      name: 'relay',
      label: 'byte relay (baseline)',
      command: process.execPath,
      args: [...nodeArgs, byteRelay, process.execPath, everything, 'stdio'],
      proxy: true,
    },
    {
      name: 'mcp-proxy',
      label: 'npm mcp-proxy (SDK Server ⇄ Client, stdio → stdio)',
      command: process.execPath,
      args: [...nodeArgs, mcpProxyStdio, process.execPath, everything, 'stdio'],
      proxy: true,
      skipMemory: true, // 100 000 calls would take minutes at its speed; the peer's RSS is not what is measured
    },
    { name: 'monitor', label: 'ratri monitor (events to the store)', ...ratri(configs.monitor), storeFile: configs.stores.monitor },
    {
      name: 'enforce',
      label: 'ratri enforce (4 rules, events to JSONL + store)',
      ...ratri(configs.enforce),
      enforce: true,
      telemetryFile: configs.telemetryFile,
      storeFile: configs.stores.enforce,
    },
    {
      name: 'store',
      label: 'ratri enforce + store (4 rules + block_changed_tool_definitions, events to the store only)',
      ...ratri(configs.store),
      enforce: true,
      toolRegistry: true,
      storeFile: configs.stores.store,
    },
    {
      name: 'results',
      label: 'ratri enforce + 2 result rules on echo (secrets redact, regex block; events to the store)',
      ...ratri(configs.results),
      enforce: true,
      storeFile: configs.stores.results,
    },
  ];
  all.push(...compareVariants(all, dir, ratri));
  const wanted = (process.env.BENCH_VARIANTS || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const w of wanted)
    if (!all.some((v) => v.name === w))
      throw new Error(`BENCH_VARIANTS: unknown variant "${w}" (known: ${all.map((v) => v.name).join(', ')})`);
  return wanted.length === 0 ? all : all.filter((v) => v.name === 'relay' || wanted.includes(v.name.replace(/-before$/, '')));
}

/**
 * With BENCH_RATRI_COMPARE (another build's dist/cli/ratri.js), the ratri variants once more as
 * `<name>-before`, started from that build with configs and stores of their own (an older build may
 * not open a newer store), measured in the same round-robin: before/after in one run.
 */
function compareVariants(all, dir, ratri) {
  const cli = process.env.BENCH_RATRI_COMPARE;
  if (!cli) return [];
  const beforeDir = join(dir, 'before');
  mkdirSync(beforeDir, { recursive: true });
  const configs = ratriConfigs(beforeDir);
  return all
    .filter((v) => v.ratri)
    .map((v) => ({
      ...v,
      ...ratri(configs[v.name], cli),
      name: `${v.name}-before`,
      label: `${v.label}, before`,
      storeFile: configs.stores[v.name],
      telemetryFile: v.telemetryFile ? configs.telemetryFile : undefined,
    }));
}
