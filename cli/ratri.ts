#!/usr/bin/env node
/** The `ratri` command line: yargs wiring only; the work is in lib/. */
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { approvalsCommand } from './commands/approvals.js';
import { dashboardCommand } from './commands/dashboard.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { eventsCommand } from './commands/events.js';
import { grantsCommand } from './commands/grants.js';
import { initCommand } from './commands/init.js';
import { mcpCommand } from './commands/mcp.js';
import { replayCommand } from './commands/replay.js';
import { rulesCommand } from './commands/rules.js';
import { serveCommand } from './commands/serve.js';
import { storeCommand } from './commands/store.js';
import { toolsCommand } from './commands/tools.js';
import { type CommandNode, explainUsageFailure } from './usage-failure.js';

const commands = [
  mcpCommand,
  initCommand,
  replayCommand,
  serveCommand,
  approvalsCommand,
  grantsCommand,
  eventsCommand,
  toolsCommand,
  storeCommand,
  demoCommand,
  dashboardCommand,
  doctorCommand,
  rulesCommand,
] as CommandNode[];

await yargs(hideBin(process.argv))
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
    process.stderr.write(`${explainUsageFailure(reason, hideBin(process.argv), commands)}\nRun "ratri --help" for usage.\n`);
    process.exit(2);
  })
  .parseAsync();
