/**
 * `ratri events`: what the proxies recorded, as a table or JSON lines: from the store, or with a
 * config that has `api` from a team's `ratri serve` (`GET /v1/events`, docs/api.md#get-v1events).
 */
import type { CommandModule } from 'yargs';
import type { EventQuery, StoredEvent } from '../../lib/control/event-query.js';
import type { ChosenControlPlane } from '../../lib/control/open-control-plane.js';
import { EVENT_COLUMNS } from '../../lib/report/event-rows.js';
import { renderTable } from '../../lib/report/text-table.js';
import { parseSince } from '../../lib/report/time-spec.js';
import { type ApproverKeyArgs, approverKeyOf, withApproverKeyOption } from '../approver-key-option.js';
import { colourOn, fail, type StoreArgs, withPlane, withStoreOptions } from '../store-options.js';

interface EventsArgs extends StoreArgs, ApproverKeyArgs {
  tool?: string;
  decision?: string;
  type?: string;
  since?: string;
  until?: string;
  session?: string;
  agent?: string;
  limit?: string;
  follow: boolean;
}

const DEFAULT_LIMIT = 50;

/** `--limit`: digits only, 1 or more (yargs' own number parsing lets `abc` and `-1` through). */
function parseLimit(text: string): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new Error(`--limit must be a whole number of at least 1 (the number of newest events to show), not "${text}"`);
  }
  return n;
}

export const eventsCommand: CommandModule<object, EventsArgs> = {
  command: 'events',
  describe: 'Show recent events (tool calls, decisions, approvals) from the store',
  builder: (y) =>
    withApproverKeyOption(withStoreOptions(y))
      .option('tool', { type: 'string', describe: 'Only this tool: a glob on "server.tool" or the bare name' })
      .option('decision', {
        type: 'string',
        choices: ['allow', 'warn', 'block', 'require_approval'],
        describe: 'Only guardrail decisions of this kind',
      })
      .option('type', { type: 'string', describe: 'Only this event type (glob): agent.tool.*, mcp.tools.registered …' })
      .option('since', { type: 'string', describe: 'Only events since: 30s, 10m, 2h, 7d or a date' })
      .option('until', { type: 'string', describe: 'Only events before: 30s, 10m, 2h, 7d (ago) or a date' })
      .option('session', { type: 'string', describe: 'Only events of this proxy session id' })
      .option('agent', { type: 'string', describe: 'Only events of this agent key' })
      // No yargs default: with one, a bare `--limit` would quietly mean it.
      .option('limit', { type: 'string', describe: 'At most this many (the newest): a whole number, 1 or more [default: 50]' })
      .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'Keep printing new events as they come (Ctrl-C stops)' })
      .example('$0 events', 'The last 50 events')
      .example('$0 events --decision block --since 1h', 'What was blocked in the last hour')
      .example('$0 events --tool "filesystem.*" --json | jq .data.resource', 'Events of one server, for a script')
      .example('$0 events -f', 'Watch events as they happen')
      .example('$0 events --config approver.mcp.json --since 1h', "The team's events, from its ratri serve"),
  handler: async (args) => {
    let query: EventQuery;
    try {
      query = {
        tool: args.tool,
        decision: args.decision,
        type: args.type,
        since: args.since ? parseSince(args.since) : undefined,
        until: args.until ? parseSince(args.until, Date.now(), '--until') : undefined,
        sessionId: args.session,
        agents: args.agent === undefined ? undefined : [args.agent],
        limit: args.limit === undefined ? DEFAULT_LIMIT : parseLimit(args.limit),
      };
    } catch (err) {
      fail((err as Error).message, 2);
    }
    await withPlane(args, (plane) => printEvents(plane, query, args), approverKeyOf(args));
  },
};

/** Prints the matching events; with --follow, keeps printing new ones until Ctrl-C. */
async function printEvents(plane: ChosenControlPlane, query: EventQuery, args: EventsArgs): Promise<void> {
  const colour = colourOn();
  const print = (events: StoredEvent[], header: boolean): void => {
    if (args.json) {
      for (const e of events) process.stdout.write(`${JSON.stringify(e)}\n`);
    } else if (events.length > 0) {
      const table = renderTable(events, EVENT_COLUMNS, colour);
      process.stdout.write(`${header ? table : table.slice(table.indexOf('\n') + 1)}\n`);
    }
  };
  const first = await plane.queryEvents(query);
  if (first.length === 0 && !args.json) {
    process.stderr.write(`ratri: no events${args.follow ? ' yet' : ''} in ${plane.location} matching these filters\n`);
  }
  print(first, true);
  if (!args.follow) return;
  let lastSeq = first.at(-1)?.seq ?? (await plane.queryEvents({ limit: 1 })).at(-1)?.seq ?? 0;
  let headerShown = first.length > 0;
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  while (!stop.signal.aborted) {
    await new Promise((r) => setTimeout(r, 500));
    const more = await plane.queryEvents({ ...query, afterSeq: lastSeq, limit: 1000 });
    if (more.length === 0) continue;
    lastSeq = more.at(-1)!.seq;
    print(more, !headerShown);
    headerShown = true;
  }
}
