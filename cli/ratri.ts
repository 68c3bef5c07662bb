#!/usr/bin/env node
/**
 * The `ratri` command line: yargs wiring only; the work is in lib/. Only the command named on the
 * command line is loaded (a host starts `ratri mcp proxy` at every launch, and it never needs the
 * dashboard, doctor, demo or serve code); without a known command name (`ratri --help`, a typo)
 * every command is loaded, for the help and for the list of commands (docs/performance.md).
 * The plain `mcp proxy --config FILE` a host runs does not even load yargs (cli/plain-proxy-args.ts).
 */
import type { CommandModule } from 'yargs';
import { plainProxyArgs } from './plain-proxy-args.js';
import type { CommandNode } from './usage-failure.js';

/** Every command by name, in the order `ratri --help` lists them. */
const commandLoaders: Record<string, () => Promise<CommandNode>> = {
  mcp: async () => (await import('./commands/mcp.js')).mcpCommand,
  init: async () => (await import('./commands/init.js')).initCommand,
  replay: async () => (await import('./commands/replay.js')).replayCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  approvals: async () => (await import('./commands/approvals.js')).approvalsCommand,
  grants: async () => (await import('./commands/grants.js')).grantsCommand,
  events: async () => (await import('./commands/events.js')).eventsCommand,
  tools: async () => (await import('./commands/tools.js')).toolsCommand,
  store: async () => (await import('./commands/store.js')).storeCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  dashboard: async () => (await import('./commands/dashboard.js')).dashboardCommand,
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand,
  rules: async () => (await import('./commands/rules.js')).rulesCommand,
};

/** The command the arguments name (their first word, when it is a command's name), or every command. */
async function loadCommands(args: readonly string[]): Promise<CommandNode[]> {
  const first = args[0];
  const named = first !== undefined && Object.hasOwn(commandLoaders, first) ? [commandLoaders[first]!] : Object.values(commandLoaders);
  return Promise.all(named.map((load) => load()));
}

/** Every other command line, read by yargs. */
async function runWithYargs(): Promise<void> {
  const [{ default: yargs }, { hideBin }] = await Promise.all([import('yargs'), import('yargs/helpers')]);
  const args = hideBin(process.argv);
  const [{ explainUsageFailure }, commands] = await Promise.all([import('./usage-failure.js'), loadCommands(args)]);
  await yargs(args)
    .scriptName('ratri')
    .usage('$0 <command> [options]\n\nAn MCP proxy that watches every tool call and, in enforce mode, blocks or holds dangerous ones.')
    .command(commands as CommandModule[])
    .demandCommand(1)
    .example('$0 mcp proxy --config ratri.mcp.json', 'What an MCP host runs in place of the server')
    .example('$0 approvals list', 'Calls held for approval, waiting for you')
    .example('$0 events --since 1h', 'What happened in the last hour')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .epilog('Docs: docs/README.md in the package. Quick start: ratri mcp proxy --config examples/ratri.mcp.json')
    .fail((message: string | null, err: unknown) => {
      // yargs passes its own YError, or the string a `.check()` returned, for a usage failure; any
      // other error is a real one.
      if (err instanceof Error && err.name !== 'YError') throw err;
      const reason = message ?? (err instanceof Error ? err.message : 'invalid usage');
      process.stderr.write(`${explainUsageFailure(reason, args, commands)}\nRun "ratri --help" for usage.\n`);
      process.exit(2);
    })
    .parseAsync();
}

// process.argv after the node and script paths.
const plain = plainProxyArgs(process.argv.slice(2));
if (plain) await (await import('./commands/mcp-proxy.js')).runProxy(plain);
else await runWithYargs();
