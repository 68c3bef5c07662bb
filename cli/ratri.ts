#!/usr/bin/env node
/** The `ratri` command line: yargs wiring only; the work is in lib/. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { approvalsCommand } from './commands/approvals.js';
import { demoCommand } from './commands/demo.js';
import { dashboardCommand } from './commands/dashboard.js';
import { doctorCommand } from './commands/doctor.js';
import { eventsCommand } from './commands/events.js';
import { initCommand } from './commands/init.js';
import { mcpCommand } from './commands/mcp.js';
import { replayCommand } from './commands/replay.js';
import { rulesCommand } from './commands/rules.js';
import { serveCommand } from './commands/serve.js';
import { storeCommand } from './commands/store.js';
import { toolsCommand } from './commands/tools.js';

await yargs(hideBin(process.argv))
  .scriptName('ratri')
  .usage('$0 <command> [options]\n\nAn MCP proxy that watches every tool call and, in enforce mode, blocks or holds dangerous ones.')
  .command(mcpCommand)
  .command(initCommand)
  .command(replayCommand)
  .command(serveCommand)
  .command(approvalsCommand)
  .command(eventsCommand)
  .command(toolsCommand)
  .command(storeCommand)
  .command(demoCommand)
  .command(dashboardCommand)
  .command(doctorCommand)
  .command(rulesCommand)
  .demandCommand(1, 'Name a command: ratri mcp proxy --config ratri.mcp.json')
  .example('$0 mcp proxy --config ratri.mcp.json', 'What an MCP host runs in place of the server')
  .example('$0 approvals list', 'Calls held for approval, waiting for you')
  .example('$0 events --since 1h', 'What happened in the last hour')
  .strict()
  .recommendCommands()
  .help()
  .alias('h', 'help')
  .version()
  .epilog('Docs: docs/README.md in the package. Quick start: ratri mcp proxy --config examples/ratri.mcp.json')
  .fail((message, err) => {
    if (err) throw err;
    process.stderr.write(`ratri: ${message}\nRun "ratri --help" for usage.\n`);
    process.exit(2);
  })
  .parseAsync();
