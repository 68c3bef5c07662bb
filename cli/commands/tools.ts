/**
 * `ratri tools list|trust`: the tool registry, and trusting a tool whose definition changed. `list`
 * with a config that has `api` reads a team's `ratri serve` (`GET /v1/tools`); `trust` changes a local store.
 */
import type { Argv, CommandModule } from 'yargs';
import type { RegisteredTool } from '../../lib/control/tool-registry.js';
import { type Column, renderTable } from '../../lib/report/text-table.js';
import { relativeTime } from '../../lib/report/time-spec.js';
import { visibleText } from '../../lib/report/visible-text.js';
import { type ApproverKeyArgs, approverKeyOf, withApproverKeyOption } from '../approver-key-option.js';
import { colourOn, fail, openStoreOrExit, type StoreArgs, withPlane, withStoreOptions } from '../store-options.js';
import type { GroupCommand } from '../usage-failure.js';

interface ToolsArgs extends StoreArgs, ApproverKeyArgs {
  agent?: string;
}

interface TrustArgs extends ToolsArgs {
  tool: string;
}

const COLUMNS: Column<RegisteredTool>[] = [
  { title: 'AGENT', value: (t) => t.agentKey },
  { title: 'TOOL', value: (t) => `${t.serverName}.${t.name}` },
  { title: 'STATUS', value: (t) => (t.changed ? 'CHANGED' : 'trusted'), colour: (t) => (t.changed ? 'red' : 'green') },
  { title: 'LAST SEEN', value: (t) => relativeTime(t.lastSeen) },
  { title: 'DESCRIPTION', value: (t) => t.definition.description ?? '', max: 70 },
];

const listCommand: CommandModule<ToolsArgs, ToolsArgs> = {
  command: 'list',
  describe: 'List the tools the proxies have seen, and which changed since they were trusted',
  builder: (y) =>
    withApproverKeyOption(y)
      .example('$0 tools list', 'Every registered tool')
      .example('$0 tools list --config approver.mcp.json', "The team's tools, from its ratri serve"),
  handler: async (args) => {
    const tools = await withPlane(args, (plane) => plane.listTools(args.agent), approverKeyOf(args));
    if (args.json) return void process.stdout.write(`${JSON.stringify(tools, null, 2)}\n`);
    if (tools.length === 0)
      return void process.stdout.write('No tools registered yet: they are registered when a host lists them (tools/list) through ratri.\n');
    process.stdout.write(`${renderTable(tools, COLUMNS, colourOn())}\n`);
  },
};

const trustCommand: CommandModule<ToolsArgs, TrustArgs> = {
  command: 'trust <tool>',
  describe: "Trust a tool's current definition (after reviewing a change)",
  builder: (y) =>
    (y as Argv<ToolsArgs>)
      .positional('tool', { type: 'string', demandOption: true, describe: 'server.tool, as "ratri tools list" shows it' })
      .example(
        '$0 tools trust filesystem.write_file',
        'Calls to it are no longer blocked by block_changed_tool_definitions',
      ) as Argv<TrustArgs>,
  handler: async (args) => {
    const plane = openStoreOrExit(args, 'ratri tools trust');
    const matches = plane.tools
      .list(args.agent === undefined ? undefined : [args.agent])
      .filter((t) => `${t.serverName}.${t.name}` === args.tool);
    if (matches.length === 0) {
      await plane.close();
      fail(`no registered tool "${args.tool}"${args.agent ? ` for agent ${args.agent}` : ''}; see "ratri tools list"`);
    }
    if (matches.length > 1) {
      await plane.close();
      fail(`"${args.tool}" is registered for several agents (${matches.map((t) => t.agentKey).join(', ')}); name one with --agent`, 2);
    }
    const tool = matches[0]!;
    plane.tools.trust(tool.agentKey, tool.serverName, tool.name);
    await plane.close();
    process.stdout.write(
      visibleText(
        tool.changed
          ? `trusted the current definition of ${args.tool} (agent ${tool.agentKey})`
          : `${args.tool} had not changed; it stays trusted`,
      ) + '\n',
    );
  },
};

const subcommands = [listCommand, trustCommand] as CommandModule<ToolsArgs>[];

export const toolsCommand: GroupCommand<object, ToolsArgs> = {
  command: 'tools',
  describe: 'The tool registry: list tools, trust a changed definition',
  subcommands,
  builder: (y) =>
    withStoreOptions(y)
      .option('agent', { type: 'string', describe: 'Only this agent key' })
      .command(subcommands)
      .demandCommand(1)
      .example('$0 tools list', 'Every tool the proxies have seen, and which changed')
      .example('$0 tools trust filesystem.write_file', 'Trust its current definition after reviewing the change'),
  handler: () => undefined,
};
