/** `ratri serve keys add|list|remove`: the keys file of `ratri serve` (docs/api.md, "Keys for teams"). */
import type { Argv, CommandModule } from 'yargs';
import { addKey, type KeyEntry, type KeyRole, KeysFileError, readKeysFile, removeKey } from '../../lib/control/keys-file.js';
import { type Column, renderTable } from '../../lib/report/text-table.js';
import { stderrLine, visibleText } from '../../lib/report/visible-text.js';
import { colourOn } from '../store-options.js';
import type { GroupCommand } from '../usage-failure.js';

interface KeysArgs {
  keys: string;
}

interface AddArgs extends KeysArgs {
  id: string;
  role: KeyRole;
  agent?: string[];
}

interface RemoveArgs extends KeysArgs {
  id: string;
}

/** Runs `work`; a keys file that cannot be used is one line on stderr and exit 2. */
function orFail<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (!(err instanceof KeysFileError)) throw err;
    process.stderr.write(stderrLine('ratri serve keys', err.message));
    process.exit(2);
  }
}

const agentsOf = (k: KeyEntry): string => (k.agentKeys ? visibleText(k.agentKeys.join(', ')) : 'every agent');

const COLUMNS: Column<KeyEntry>[] = [
  { title: 'ID', value: (k) => k.id, colour: () => 'bold' },
  { title: 'ROLE', value: (k) => k.role },
  { title: 'AGENTS', value: agentsOf },
  { title: 'ADDED', value: (k) => k.createdAt ?? '-' },
];

const addCommand: CommandModule<KeysArgs, AddArgs> = {
  command: 'add',
  describe: 'Make a new key: prints it once on stdout and writes only its hash to the keys file',
  builder: (y) =>
    (y as Argv<KeysArgs>)
      .option('id', { type: 'string', demandOption: true, describe: 'Its name in logs and approvals (not secret)' })
      .option('role', {
        choices: ['proxy', 'approver'] as const,
        demandOption: true,
        describe: 'proxy, or approver (may resolve approvals)',
      })
      .option('agent', {
        type: 'string',
        array: true,
        describe:
          'An agentKey it may act for (repeat for several); required for a proxy key, for an approver key the agents whose approvals it resolves (default: all)',
      })
      .check((a) =>
        a.role === 'proxy' && !a.agent?.length ? '--agent is required for a proxy key: the agentKey of the proxies that use it' : true,
      )
      .example(
        '$0 serve keys add --keys keys.json --role proxy --agent alice --id alice-laptop',
        'A key for the proxies of agent alice',
      ) as Argv<AddArgs>,
  handler: (args) => {
    const key = orFail(() => addKey(args.keys, { id: args.id, role: args.role, ...(args.agent?.length ? { agentKeys: args.agent } : {}) }));
    process.stdout.write(`${key}\n`);
    process.stderr.write(
      stderrLine(
        'ratri serve keys',
        `added ${args.role} key "${args.id}" to ${args.keys}; the key above is shown only now (ratri serve keeps its hash): hand it over, then clear your terminal`,
      ),
    );
  },
};

const listCommand: CommandModule<KeysArgs, KeysArgs> = {
  command: 'list',
  describe: 'List the keys of the keys file (ids, roles, agents; never the keys)',
  handler: (args) => {
    const keys = orFail(() => readKeysFile(args.keys));
    process.stdout.write(keys.length ? `${renderTable(keys, COLUMNS, colourOn())}\n` : `No keys in ${args.keys}.\n`);
  },
};

const removeCommand: CommandModule<KeysArgs, RemoveArgs> = {
  command: 'remove',
  describe: 'Remove a key: ratri serve refuses it within a second',
  builder: (y) =>
    (y as Argv<KeysArgs>).option('id', { type: 'string', demandOption: true, describe: 'The key to remove' }) as Argv<RemoveArgs>,
  handler: (args) => {
    const removed = orFail(() => removeKey(args.keys, args.id));
    process.stdout.write(`removed ${removed.role} key "${removed.id}" (${agentsOf(removed)}) from ${args.keys}\n`);
  },
};

const subcommands = [addCommand, listCommand, removeCommand] as CommandModule<KeysArgs>[];

export const serveKeysCommand: GroupCommand<object, KeysArgs> = {
  command: 'keys',
  describe: 'Add, list and remove the keys of a ratri serve keys file',
  subcommands,
  builder: (y) =>
    y
      .option('keys', { type: 'string', global: true, demandOption: true, describe: 'The keys file (made by "add" when missing; 0600)' })
      .command(subcommands)
      .demandCommand(1) as Argv<KeysArgs>,
  handler: () => undefined,
};
