/** `ratri mcp <subcommand>`. */
import type { CommandModule } from 'yargs';
import { proxyCommand } from './mcp-proxy.js';

export const mcpCommand: CommandModule = {
  command: 'mcp <command>',
  describe: 'MCP proxy commands',
  builder: (y) =>
    y
      .command(proxyCommand)
      .demandCommand(1, 'Name an mcp command: ratri mcp proxy --config FILE')
      .example('$0 mcp proxy --config ratri.mcp.json', 'Proxy the upstream of ratri.mcp.json on stdin/stdout'),
  handler: () => undefined,
};
