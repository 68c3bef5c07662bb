/** `ratri init`: wrap the stdio servers of the MCP hosts on this machine with ratri, or undo it. */
import type { CommandModule } from 'yargs';
import type { Mode } from '../../lib/config/types.js';
import { HOST_IDS, thisMachine } from '../../lib/init/host-files.js';
import { undoInit } from '../../lib/init/init-backups.js';
import { InitError } from '../../lib/init/init-plan.js';
import { InitUsageError, runInit } from '../../lib/init/init-run.js';
import { fail } from '../store-options.js';

interface InitArgs {
  host?: string[];
  server?: string[];
  yes: boolean;
  'dry-run': boolean;
  mode?: Mode;
  project: string;
  undo: boolean;
  force: boolean;
}

function undo(force: boolean): void {
  const results = undoInit(force);
  if (results.length === 0)
    return void process.stdout.write('Nothing to undo: ratri init has not changed any file (or it was undone already).\n');
  const lines = results.map((r) =>
    r.outcome === 'restored'
      ? `restored ${r.path}`
      : r.outcome === 'removed'
        ? `removed ${r.path} (ratri init had created it)`
        : r.outcome === 'missing'
          ? `${r.path} is gone already`
          : `left ${r.path}: it changed since ratri init wrote it; the original is ${r.backup ?? '(none: init created it)'}`,
  );
  if (results.some((r) => r.outcome === 'changed since')) {
    lines.push('Nothing was put back. ratri init --undo --force puts every file back anyway (the changes since are lost).');
    process.exitCode = 1;
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export const initCommand: CommandModule<object, InitArgs> = {
  command: 'init',
  describe: 'Find the MCP hosts on this machine and put ratri in front of their stdio servers',
  builder: (y) =>
    y
      .option('host', { type: 'string', array: true, describe: `Only this host (repeatable): ${HOST_IDS.join(', ')}` })
      .option('server', { type: 'string', array: true, describe: 'Only the entry with this name (repeatable)' })
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Wrap every stdio server found' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Print the changes as a diff; change nothing' })
      .option('mode', {
        type: 'string',
        choices: ['monitor', 'enforce'] as const,
        describe: 'The mode of the ratri configs written (default monitor)',
      })
      .option('project', {
        type: 'string',
        default: '.',
        describe: 'The project folder whose .mcp.json, .cursor/mcp.json, .vscode/mcp.json to include',
      })
      .option('undo', { type: 'boolean', default: false, describe: 'Put back every file ratri init changed, byte for byte' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'With --undo: also put back files changed since ratri init wrote them',
      })
      .example('$0 init', 'List the servers of every host found')
      .example('$0 init --yes --dry-run', 'Show what wrapping all of them would change')
      .example('$0 init --host claude-desktop --server github', 'Wrap one server of one host')
      .example('$0 init --undo', 'Put every file back as it was')
      .epilog('See docs/hosts.md#ratri-init.'),
  handler: (args) => {
    if (args.undo) return undo(args.force);
    if (args.force) fail('--force goes with --undo only', 2);
    try {
      const text = runInit(thisMachine(args.project), {
        hosts: args.host ?? [],
        servers: args.server ?? [],
        all: args.yes,
        dryRun: args['dry-run'],
        ...(args.mode ? { mode: args.mode } : {}),
      });
      process.stdout.write(`${text}\n`);
    } catch (err) {
      if (err instanceof InitUsageError) fail(err.message, 2);
      if (err instanceof InitError) fail(err.message, 1);
      throw err;
    }
  },
};
