/** `ratri approvals list|approve|reject`: a human's side of calls held for approval. */
import { userInfo } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import type { ApprovalStatus, ControlPlane } from '../../lib/control/control-plane.js';
import { alwaysNote } from '../../lib/control/always-note.js';
import { openChosenControlPlane } from '../../lib/control/open-control-plane.js';
import { approvalColumns } from '../../lib/report/event-rows.js';
import { paint, renderTable } from '../../lib/report/text-table.js';
import { relativeTime } from '../../lib/report/time-spec.js';
import { visibleText } from '../../lib/report/visible-text.js';
import { colourOn, fail, failOpening, withStoreOptions, type StoreArgs } from '../store-options.js';

interface ListArgs extends StoreArgs {
  status: ApprovalStatus | 'all';
}

interface ResolveArgs extends StoreArgs {
  id: string;
  'approver-key-env': string;
  always?: boolean;
  by?: string;
}

async function withPlane<T>(args: StoreArgs, work: (plane: ControlPlane) => Promise<T>, approverKey?: string): Promise<T> {
  let plane: ControlPlane;
  try {
    plane = openChosenControlPlane({ ...args, approverKey });
  } catch (err) {
    failOpening(err);
  }
  try {
    return await work(plane);
  } catch (err) {
    fail(`${plane.location}: ${(err as Error).message}`);
  } finally {
    await plane.close(1000);
  }
}

const listCommand: CommandModule<StoreArgs, ListArgs> = {
  command: 'list',
  describe: 'List approvals (pending ones by default)',
  builder: (y) =>
    (y as Argv<StoreArgs>)
      .option('status', { type: 'string', choices: ['pending', 'approved', 'rejected', 'expired', 'all'] as const, default: 'pending' as const })
      .example('$0 approvals list', 'Calls waiting for a human now')
      .example('$0 approvals list --status all --json', 'Every approval, for a script'),
  handler: async (args) => {
    const approvals = await withPlane(args, (p) => p.listApprovals(args.status === 'all' ? undefined : args.status));
    if (args.json) return void process.stdout.write(`${JSON.stringify(approvals, null, 2)}\n`);
    if (approvals.length === 0) {
      process.stdout.write(args.status === 'pending' ? 'No calls are waiting for approval.\n' : `No ${args.status === 'all' ? '' : `${args.status} `}approvals.\n`);
      return;
    }
    process.stdout.write(`${renderTable(approvals, approvalColumns(), colourOn())}\n`);
    if (args.status === 'pending') {
      process.stdout.write('\nApprove with: ratri approvals approve ID [--always]    Reject with: ratri approvals reject ID\n');
    }
  },
};

function resolveCommand(approve: boolean): CommandModule<StoreArgs, ResolveArgs> {
  const verb = approve ? 'approve' : 'reject';
  return {
    command: `${verb} <id>`,
    describe: approve ? 'Approve a held call: the waiting proxy forwards it' : 'Reject a held call: the host gets error -32002',
    builder: (y) => {
      let b = (y as Argv<StoreArgs>)
        .positional('id', { type: 'string', demandOption: true, describe: 'The approval id (apr_…), from "ratri approvals list"' })
        .option('by', { type: 'string', describe: 'Who resolves it (recorded; default: your user name)' })
        .option('approver-key-env', {
          type: 'string',
          default: 'RATRI_APPROVER_KEY',
          describe: 'With a config that has "api": the environment variable holding the approver key (a proxy key cannot resolve approvals)',
        });
      if (approve) {
        b = b.option('always', {
          type: 'boolean',
          default: false,
          describe: "Also add the tool to the agent's approved tools and trust its current definition",
        });
        b = b.example('$0 approvals approve apr_3f9a1c2b7d', 'Let this one call through');
        b = b.example('$0 approvals approve apr_3f9a1c2b7d --always', 'Let it through, and stop asking for this tool');
      } else {
        b = b.example('$0 approvals reject apr_3f9a1c2b7d', 'Refuse the call');
      }
      return b as Argv<ResolveArgs>;
    },
    handler: async (args) => {
      const by = args.by ?? `${userInfo().username}@cli`;
      const scope = approve && args.always ? 'always' : 'once';
      const approverKey = process.env[args['approver-key-env']] || undefined;
      const result = await withPlane(args, (p) => p.resolveApproval(args.id, approve, scope, by), approverKey);
      if (!result) fail(`no approval "${args.id}"; see "ratri approvals list --status all"`);
      const a = result.approval;
      const tool = visibleText(`${a.serverName}.${a.tool}`);
      if (args.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        if (!result.changed) process.exitCode = 1; // the same exit status as without --json
        return;
      }
      if (!result.changed) {
        const when = a.resolvedAt ? ` ${relativeTime(a.resolvedAt)}` : '';
        fail(`${a.id} (${tool}) was already ${a.status}${when}${a.resolvedBy ? ` by ${a.resolvedBy}` : ''}; nothing changed`);
      }
      const colour = colourOn();
      const what = approve
        ? `${paint('approved', 'green', colour)} ${a.id}: ${tool}; the waiting proxy forwards the call.${scope === 'always' ? `\nalways: ${visibleText(alwaysNote(a))}.` : ''}`
        : `${paint('rejected', 'red', colour)} ${a.id}: ${tool}; the host gets error -32002.`;
      process.stdout.write(`${what}\n`);
    },
  };
}

export const approvalsCommand: CommandModule<object, StoreArgs> = {
  command: 'approvals <command>',
  describe: 'List, approve and reject tool calls held for approval',
  builder: (y) =>
    withStoreOptions(y)
      .command(listCommand)
      .command(resolveCommand(true))
      .command(resolveCommand(false))
      .demandCommand(1, 'Name one: list, approve ID, reject ID')
      .example('$0 approvals list', 'Calls waiting for a human now')
      .example('$0 approvals approve apr_3f9a1c2b7d', 'Let a held call through')
      .example('$0 approvals reject apr_3f9a1c2b7d --config ratri.mcp.json', 'Refuse it, on the store or API that config uses'),
  handler: () => undefined,
};
