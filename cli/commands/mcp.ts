/** `ratri mcp <subcommand>`. */
import type { CommandModule } from 'yargs';
import { proxyCommand } from './mcp-proxy.js';

export const mcpCommand: CommandModule = {
  command: 'mcp <command>',
  describe: 'MCP proxy commands',
  builder: (y) => y.command(proxyCommand).demandCommand(1, 'Name an mcp command: ratri mcp proxy --config FILE'),
  handler: () => undefined,
};
