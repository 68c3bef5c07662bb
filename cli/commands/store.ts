/** `ratri store info|prune`: what the embedded store holds, and deleting old history from it. */
import type { Argv, CommandModule } from 'yargs';
import { compactStore, countHistoryBefore, pruneHistory, storeBytes, storeInfo } from '../../lib/control/store-maintenance.js';
import { parseSince } from '../../lib/report/time-spec.js';
import { fail, openStoreOrExit, type StoreArgs, withStoreOptions } from '../store-options.js';
import { type GroupCommand, requiredOption } from '../usage-failure.js';

interface PruneArgs extends StoreArgs {
  'older-than': string;
  'dry-run': boolean;
  vacuum: boolean;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

const infoCommand: CommandModule<StoreArgs, StoreArgs> = {
  command: 'info',
  describe: 'Where the store is, how big, and what it holds',
  builder: (y) =>
    y
      .example('$0 store info', 'The default store')
      .example('$0 store info --config ratri.mcp.json --json', 'The store a config uses, as JSON'),
  handler: async (args) => {
    const plane = openStoreOrExit(args, 'ratri store');
    const info = storeInfo(plane.db, plane.location);
    await plane.close();
    if (args.json) return void process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    const lines = [
      `store ${info.path} (${megabytes(info.bytes)}, schema version ${info.schemaVersion})`,
      `  events     ${info.events}${info.events > 0 ? `, from ${info.oldestEvent} to ${info.newestEvent}` : ''}`,
      `  approvals  ${info.approvals.pending} pending, ${info.approvals.total} in all`,
      `  tools      ${info.tools} registered, ${info.boundary} always allowed (boundary map)`,
      `  outbox     ${info.outbox} event(s) waiting for a remote control plane`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};

const pruneCommand: CommandModule<StoreArgs, PruneArgs> = {
  command: 'prune',
  describe: 'Delete events (and decided approvals, ended grants) older than a time; registered tools and the boundary map stay',
  builder: (y) =>
    requiredOption(
      y as Argv<StoreArgs>,
      'older-than',
      { describe: 'Delete what was recorded before this: 30d, 12h, or a date' },
      'how old the history to delete is: --older-than 30d (or 12h, or a date)',
    )
      .option('dry-run', { type: 'boolean', default: false, describe: 'Only say how much would be deleted' })
      .option('vacuum', {
        type: 'boolean',
        default: false,
        describe: 'Then rewrite the file so the freed space goes back to the disk (proxies writing meanwhile wait; best when none is busy)',
      })
      .example('$0 store prune --older-than 30d', 'Keep the last 30 days of history')
      .example('$0 store prune --older-than 2026-01-01 --dry-run', 'How much is older than that date')
      .example('$0 store prune --older-than 7d --vacuum', 'Delete, then shrink the file') as Argv<PruneArgs>,
  handler: async (args) => {
    let before: string;
    try {
      before = parseSince(args['older-than'], Date.now(), '--older-than');
    } catch (err) {
      fail((err as Error).message, 2);
    }
    const plane = openStoreOrExit(args, 'ratri store');
    const { db, location } = plane;
    const bytesBefore = storeBytes(location);
    if (args['dry-run']) {
      const would = countHistoryBefore(db, before);
      await plane.close();
      if (args.json) return void process.stdout.write(`${JSON.stringify({ store: location, before, wouldDelete: would })}\n`);
      return void process.stdout.write(
        `would delete ${would.events} event(s), ${would.approvals} decided approval(s) and ${would.grants} ended grant(s) recorded before ${before} from ${location}\n`,
      );
    }
    const progress = process.stderr.isTTY === true && !args.json;
    const deleted = pruneHistory(db, before, (sofar) => {
      if (progress) process.stderr.write(`\rratri: deleted ${sofar.events} event(s), ${sofar.approvals} approval(s) so far…`);
    });
    if (progress && deleted.events + deleted.approvals + deleted.grants > 0) process.stderr.write('\n');
    if (args.vacuum) {
      if (!args.json) process.stderr.write(`ratri: compacting ${location} (${megabytes(bytesBefore)})…\n`);
      try {
        compactStore(db);
      } catch (err) {
        await plane.close();
        fail(
          `deleted ${deleted.events} event(s), but could not compact the store: ${(err as Error).message} (a proxy was busy writing? try again when none is)`,
        );
      }
    }
    const remaining = plane.eventStore.count();
    await plane.close();
    const bytesAfter = storeBytes(location);
    if (args.json) {
      return void process.stdout.write(
        `${JSON.stringify({ store: location, before, deleted, remainingEvents: remaining, bytesBefore, bytesAfter })}\n`,
      );
    }
    process.stdout.write(
      `deleted ${deleted.events} event(s), ${deleted.approvals} decided approval(s) and ${deleted.grants} ended grant(s) recorded before ${before} from ${location}; ${remaining} event(s) remain\n`,
    );
    process.stdout.write(
      args.vacuum
        ? `the file went from ${megabytes(bytesBefore)} to ${megabytes(bytesAfter)}\n`
        : `the file keeps its size (${megabytes(bytesAfter)}): SQLite reuses the freed space for new events; --vacuum gives it back to the disk\n`,
    );
  },
};

const subcommands = [infoCommand, pruneCommand] as CommandModule<StoreArgs>[];

export const storeCommand: GroupCommand<object, StoreArgs> = {
  command: 'store',
  describe: 'The embedded store: what it holds, and pruning old history',
  subcommands,
  builder: (y) =>
    withStoreOptions(y)
      .command(subcommands)
      .demandCommand(1)
      .example('$0 store info', 'Size, event count and time span of the store')
      .example('$0 store prune --older-than 30d', 'Delete history older than 30 days'),
  handler: () => undefined,
};
