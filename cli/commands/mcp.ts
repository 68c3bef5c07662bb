/** `ratri mcp <subcommand>`. */
import type { CommandModule } from 'yargs';
import type { GroupCommand } from '../usage-failure.js';
import { proxyCommand } from './mcp-proxy.js';

const subcommands = [proxyCommand] as CommandModule[];

export const mcpCommand: GroupCommand<object, object> = {
  command: 'mcp',
  describe: 'MCP proxy commands',
  subcommands,
  builder: (y) =>
    y
      .command(subcommands)
      .demandCommand(1)
      .example('$0 mcp proxy --config ratri.mcp.json', 'Proxy the upstream of ratri.mcp.json on stdin/stdout'),
  handler: () => undefined,
};
