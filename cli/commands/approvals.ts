/** `ratri approvals list|watch|show|approve|reject`: a human's side of calls held for approval. */
import { userInfo } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { alwaysNote, approvedNote } from '../../lib/control/always-note.js';
import { lastPending, watchApprovals } from '../../lib/control/approval-watch.js';
import type { ApprovalStatus } from '../../lib/control/control-plane.js';
import { notifyDesktop } from '../../lib/report/desktop-notification.js';
import { approvalColumns } from '../../lib/report/event-rows.js';
import { paint, renderTable } from '../../lib/report/text-table.js';
import { relativeTime } from '../../lib/report/time-spec.js';
import { visibleText } from '../../lib/report/visible-text.js';
import { resolvingKeyOf } from '../approver-key-option.js';
import { colourOn, fail, type StoreArgs, withPlane, withStoreOptions } from '../store-options.js';
import type { GroupCommand } from '../usage-failure.js';

interface ListArgs extends StoreArgs {
  status: ApprovalStatus | 'all';
}

interface ShowArgs extends StoreArgs {
  id: string;
}

interface WatchArgs extends StoreArgs {
  bell?: boolean;
  notify: boolean;
  'interval-ms': number;
}

interface ResolveArgs extends StoreArgs {
  id?: string;
  last: boolean;
  'approver-key-env'?: string;
  always?: boolean;
  'args-match'?: boolean;
  by?: string;
}

const ID_POSITIONAL = { type: 'string', demandOption: true, describe: 'The approval id (apr_…), from "ratri approvals list"' } as const;

function noApproval(id: string): never {
  fail(`no approval "${id}"; see "ratri approvals list --status all"`);
}

const listCommand: CommandModule<StoreArgs, ListArgs> = {
  command: 'list',
  describe: 'List approvals (pending ones by default)',
  builder: (y) =>
    (y as Argv<StoreArgs>)
      .option('status', {
        type: 'string',
        choices: ['pending', 'approved', 'rejected', 'expired', 'all'] as const,
        default: 'pending' as const,
      })
      .example('$0 approvals list', 'Calls waiting for a human now')
      .example('$0 approvals list --status all --json', 'Every approval, for a script'),
  handler: async (args) => {
    const approvals = await withPlane(args, (p) => p.listApprovals(args.status === 'all' ? undefined : args.status));
    if (args.json) return void process.stdout.write(`${JSON.stringify(approvals, null, 2)}\n`);
    if (approvals.length === 0) {
      process.stdout.write(
        args.status === 'pending'
          ? 'No calls are waiting for approval.\n'
          : `No ${args.status === 'all' ? '' : `${args.status} `}approvals.\n`,
      );
      return;
    }
    process.stdout.write(`${renderTable(approvals, approvalColumns(), colourOn())}\n`);
    if (args.status === 'pending') {
      process.stdout.write('\nApprove with: ratri approvals approve ID [--always]    Reject with: ratri approvals reject ID\n');
      process.stdout.write('See one call whole: ratri approvals show ID\n');
    }
  },
};

/** Follows new pending approvals until Ctrl-C: a line each (a JSON line with --json), the bell, a desktop notice. */
const watchCommand: CommandModule<StoreArgs, WatchArgs> = {
  command: 'watch',
  describe: 'Follow calls as they are held for approval: a line and the terminal bell for each',
  builder: (y) =>
    (y as Argv<StoreArgs>)
      .option('bell', { type: 'boolean', describe: 'Ring the terminal bell for each new call (default: when stdout is a terminal)' })
      .option('notify', { type: 'boolean', default: false, describe: 'Also show a desktop notification (notify-send, where present)' })
      .option('interval-ms', { type: 'number', default: 500, describe: 'How often to look for new held calls' })
      .example('$0 approvals watch', 'Keep a terminal open that tells you when a call waits for you')
      .example('$0 approvals watch --notify', 'The same, with a desktop notification') as Argv<WatchArgs>,
  handler: async (args) => {
    if (!(args['interval-ms'] >= 50)) fail('--interval-ms must be a number of milliseconds, 50 or more');
    const bell = args.bell ?? process.stdout.isTTY === true;
    const stop = new AbortController();
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
    if (!args.json) process.stdout.write('Watching for calls held for approval (Ctrl-C stops)…\n');
    await withPlane(args, (p) =>
      watchApprovals(
        p,
        (a) => {
          const tool = visibleText(`${a.serverName}.${a.tool}`);
          if (args.json) process.stdout.write(`${JSON.stringify(a)}\n`);
          else {
            const why = a.ruleId ? ` (rule ${visibleText(a.ruleId)})` : '';
            process.stdout.write(
              `${bell ? '\x07' : ''}${a.id}  ${tool}${why} waits since ${relativeTime(a.requestedAt)}; ratri approvals approve ${a.id}  |  reject ${a.id}  |  show ${a.id}\n`,
            );
          }
          if (args.notify) notifyDesktop(`ratri: ${tool} waits for approval`, `ratri approvals approve ${a.id}`);
        },
        { intervalMs: args['interval-ms'], signal: stop.signal },
      ),
    );
  },
};

/** One approval, with its arguments whole (redacted, never cut): what the upstream gets if it is approved. */
const showCommand: CommandModule<StoreArgs, ShowArgs> = {
  command: 'show <id>',
  describe: 'Show one approval with its whole (redacted) arguments',
  builder: (y) =>
    (y as Argv<StoreArgs>)
      .positional('id', ID_POSITIONAL)
      .example('$0 approvals show apr_3f9a1c2b7d', 'Read the call before approving it') as Argv<ShowArgs>,
  handler: async (args) => {
    const approval = await withPlane(args, (p) => p.getApproval(args.id));
    if (!approval) noApproval(args.id);
    if (args.json) return void process.stdout.write(`${JSON.stringify(approval, null, 2)}\n`);
    const argumentsJson = JSON.stringify(approval.arguments, null, 2);
    const lines = [
      `${approval.id}  ${approval.status}  ${approval.serverName}.${approval.tool}`,
      `agent ${approval.agentKey}, session ${approval.sessionId ?? '-'}, request id ${approval.requestId ?? '-'}`,
      `rule ${approval.ruleId ?? '-'}: ${approval.reason ?? ''}`,
      `requested ${approval.requestedAt}, expires ${approval.expiresAt}${approval.resolvedAt ? `, resolved ${approval.resolvedAt}${approval.resolvedBy ? ` by ${approval.resolvedBy}` : ''}` : ''}`,
      `arguments (redacted, ${Buffer.byteLength(JSON.stringify(approval.arguments))} bytes):`,
      argumentsJson,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};

function resolveCommand(approve: boolean): CommandModule<StoreArgs, ResolveArgs> {
  const verb = approve ? 'approve' : 'reject';
  return {
    command: `${verb} [id]`,
    describe: approve ? 'Approve a held call: the waiting proxy forwards it' : 'Reject a held call: the host gets error -32002',
    builder: (y) => {
      let b = (y as Argv<StoreArgs>)
        .positional('id', { type: 'string', describe: 'The approval id (apr_…), from "ratri approvals list"' })
        .option('last', {
          type: 'boolean',
          default: false,
          describe: `${approve ? 'Approve' : 'Reject'} the newest pending call instead of naming its id`,
        })
        .check(
          (a) =>
            (a.id === undefined) !== (a.last !== true) ||
            `name the approval: ratri approvals ${verb} ID, or ratri approvals ${verb} --last (the newest pending one)`,
        )
        .option('by', { type: 'string', describe: 'Who resolves it (recorded; default: your user name)' })
        .option('approver-key-env', {
          type: 'string',
          describe:
            'With a config that has "api": the environment variable holding the approver key (default: RATRI_APPROVER_KEY, when set; a proxy key cannot resolve approvals)',
        });
      if (approve) {
        b = b.option('always', {
          type: 'boolean',
          default: false,
          describe:
            "Also add the tool to the agent's approved tools, trust its current definition, and store a grant that passes require_approval for this tool and agent (never block)",
        });
        b = b.option('args-match', {
          type: 'boolean',
          default: false,
          describe: 'With --always: the grant passes only calls with these same arguments',
        });
        b = b.check((a) => !a['args-match'] || a.always === true || '--args-match needs --always');
        b = b.example('$0 approvals approve apr_3f9a1c2b7d', 'Let this one call through');
        b = b.example('$0 approvals approve --last', 'Let the newest held call through');
        b = b.example('$0 approvals approve apr_3f9a1c2b7d --always', 'Let it through, and stop asking for this tool');
        b = b.example('$0 approvals approve apr_3f9a1c2b7d --always --args-match', 'Stop asking for this very call');
      } else {
        b = b.example('$0 approvals reject apr_3f9a1c2b7d', 'Refuse the call');
      }
      return b as Argv<ResolveArgs>;
    },
    handler: async (args) => {
      const by = args.by ?? `${userInfo().username}@cli`;
      const scope = approve && args.always ? 'always' : 'once';
      const approverKey = resolvingKeyOf(args);
      const result = await withPlane(
        args,
        async (p) => {
          const id = args.last ? (await lastPending(p))?.id : args.id;
          if (id === undefined) fail('no call is waiting for approval; see "ratri approvals list"');
          const options = { argsMatch: args['args-match'] === true };
          return (await p.resolveApproval(id, approve, scope, by, options)) ?? noApproval(id);
        },
        approverKey,
      );
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
        ? `${paint('approved', 'green', colour)} ${a.id}: ${tool}; ${visibleText(approvedNote(a, result.grant))}.${scope === 'always' ? `\nalways: ${visibleText(alwaysNote(a, result.grant))}.` : ''}`
        : `${paint('rejected', 'red', colour)} ${a.id}: ${tool}; the host gets error -32002.`;
      process.stdout.write(`${what}\n`);
    },
  };
}

const subcommands = [listCommand, watchCommand, showCommand, resolveCommand(true), resolveCommand(false)] as CommandModule<StoreArgs>[];

export const approvalsCommand: GroupCommand<object, StoreArgs> = {
  command: 'approvals',
  describe: 'List, watch, show, approve and reject tool calls held for approval',
  subcommands,
  builder: (y) =>
    withStoreOptions(y)
      .command(subcommands)
      .demandCommand(1)
      .example('$0 approvals list', 'Calls waiting for a human now')
      .example('$0 approvals approve apr_3f9a1c2b7d', 'Let a held call through')
      .example('$0 approvals reject apr_3f9a1c2b7d --config ratri.mcp.json', 'Refuse it, on the store or API that config uses'),
  handler: () => undefined,
};
