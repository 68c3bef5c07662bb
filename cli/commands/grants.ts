/** `ratri grants list|revoke`: the calls that pass without a new hold (docs/control-plane.md, "Grants"). */
import type { Argv, CommandModule } from 'yargs';
import type { GrantRecord } from '../../lib/control/control-plane.js';
import { type Column, renderTable } from '../../lib/report/text-table.js';
import { relativeTime } from '../../lib/report/time-spec.js';
import { visibleText } from '../../lib/report/visible-text.js';
import { resolvingKeyOf } from '../approver-key-option.js';
import { colourOn, fail, type StoreArgs, withPlane, withStoreOptions } from '../store-options.js';
import type { GroupCommand } from '../usage-failure.js';

interface ListArgs extends StoreArgs {
  all: boolean;
}

interface RevokeArgs extends StoreArgs {
  id: string;
  'approver-key-env'?: string;
}

function state(g: GrantRecord): string {
  if (g.revokedAt) return 'revoked';
  if (g.usedAt) return 'used';
  if (g.expiresAt && g.expiresAt <= new Date().toISOString()) return 'expired';
  return 'active';
}

const COLUMNS: Column<GrantRecord>[] = [
  { title: 'ID', value: (g) => g.id, colour: () => 'bold' },
  { title: 'KIND', value: (g) => g.kind },
  { title: 'STATE', value: state, colour: (g) => (state(g) === 'active' ? 'green' : 'dim') },
  { title: 'AGENT', value: (g) => g.agentKey },
  { title: 'TOOL', value: (g) => `${g.serverName}.${g.tool}` },
  { title: 'ARGUMENTS', value: (g) => (g.argsMatch ? 'these only' : 'any') },
  { title: 'FROM', value: (g) => `${g.approvalId ?? '-'}${g.createdBy ? ` by ${g.createdBy}` : ''}` },
  { title: 'EXPIRES', value: (g) => (g.expiresAt ? relativeTime(g.expiresAt) : 'until revoked') },
];

const listCommand: CommandModule<StoreArgs, ListArgs> = {
  command: 'list',
  describe: 'List the grants still in force (--all: used, expired and revoked ones too)',
  builder: (y) =>
    (y as Argv<StoreArgs>)
      .option('all', { type: 'boolean', default: false, describe: 'Also used, expired and revoked grants' })
      .example('$0 grants list', 'What passes without a hold now') as Argv<ListArgs>,
  handler: async (args) => {
    const grants = await withPlane(args, (p) => p.listGrants(args.all));
    if (args.json) return void process.stdout.write(`${JSON.stringify(grants, null, 2)}\n`);
    if (grants.length === 0) {
      process.stdout.write(
        'No grants. "ratri approvals approve ID --always" makes one, and so does approving a call whose host gave up.\n',
      );
      return;
    }
    process.stdout.write(`${renderTable(grants, COLUMNS, colourOn())}\n`);
  },
};

const revokeCommand: CommandModule<StoreArgs, RevokeArgs> = {
  command: 'revoke <id>',
  describe: 'Revoke a grant: its calls are held for approval again',
  builder: (y) =>
    (y as Argv<StoreArgs>)
      .positional('id', { type: 'string', demandOption: true, describe: 'The grant id (grt_…), from "ratri grants list"' })
      .option('approver-key-env', {
        type: 'string',
        describe: 'With a config that has "api": the environment variable holding the approver key (default: RATRI_APPROVER_KEY, when set)',
      })
      .example('$0 grants revoke grt_3f9a1c2b7d', 'Ask again for the calls it let through') as Argv<RevokeArgs>,
  handler: async (args) => {
    const approverKey = resolvingKeyOf(args);
    const result = await withPlane(args, (p) => p.revokeGrant(args.id), approverKey);
    if (!result) fail(`no grant "${args.id}"; see "ratri grants list --all"`);
    if (args.json) return void process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    const g = result.grant;
    const tool = visibleText(`${g.serverName}.${g.tool}`);
    if (!result.changed) fail(`${g.id} (${tool}) was already revoked ${relativeTime(g.revokedAt!)}; nothing changed`);
    process.stdout.write(
      `revoked ${g.id}: calls to ${tool} from agent ${visibleText(g.agentKey)} are held for approval again when a rule asks.\n`,
    );
  },
};

const subcommands = [listCommand, revokeCommand] as CommandModule<StoreArgs>[];

export const grantsCommand: GroupCommand<object, StoreArgs> = {
  command: 'grants',
  describe: 'List and revoke grants: calls that pass require_approval without a new hold',
  subcommands,
  builder: (y) =>
    withStoreOptions(y)
      .command(subcommands)
      .demandCommand(1)
      .example('$0 grants list', 'What passes without a hold now')
      .example('$0 grants revoke grt_3f9a1c2b7d', 'Revoke one'),
  handler: () => undefined,
};
