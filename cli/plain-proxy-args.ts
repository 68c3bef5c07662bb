/**
 * The command line a host runs at every start, read without yargs: `mcp proxy` with `--config FILE`
 * (or `-c FILE`, `--config=FILE`), `--server`, `--mode`, `--environment`, `--transport stdio`, or
 * `-- COMMAND ARGS…`. Loading yargs and laying out its help is about 40 % of what ratri spends
 * before it can spawn the upstream (docs/performance.md#start-up), and a host waits for that.
 *
 * Anything else — help, a flag spelt another way, a flag twice, a missing value, a value that looks
 * like a flag, an unknown word — gives undefined, and yargs reads the line as always: so this never
 * reads a command line differently from yargs, it only skips yargs when the reading is plain
 * (tests/unit/plain-proxy-args.test.ts compares the two).
 */
import { type ProxyArgs, proxyDefaults } from './commands/mcp-proxy-args.js';

/** The options read here, by every spelling accepted; the value each takes. */
const options: Record<string, 'config' | 'server' | 'mode' | 'environment' | 'transport'> = {
  '--config': 'config',
  '-c': 'config',
  '--server': 'server',
  '--mode': 'mode',
  '--environment': 'environment',
  '--transport': 'transport',
};
/** Values a plain reading accepts for the options with choices; any other is left to yargs' message. */
const choices: Partial<Record<string, readonly string[]>> = { mode: ['monitor', 'enforce'], transport: ['stdio'] };

/** `ratri mcp proxy …`'s arguments (after the node and script paths), or undefined to leave them to yargs. */
export function plainProxyArgs(argv: readonly string[]): ProxyArgs | undefined {
  if (argv[0] !== 'mcp' || argv[1] !== 'proxy') return undefined;
  const args: ProxyArgs = { ...proxyDefaults };
  const seen = new Set<string>();
  for (let i = 2; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      // yargs gives nothing for a `--` with nothing after it.
      if (i + 1 < argv.length) args['--'] = argv.slice(i + 1);
      break;
    }
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = options[eq === -1 ? word : word.slice(0, eq)];
    const value = eq === -1 ? argv[++i] : word.slice(eq + 1);
    if (name === undefined || value === undefined || value === '' || value.startsWith('-') || seen.has(name)) return undefined;
    if (choices[name] && !choices[name].includes(value)) return undefined;
    seen.add(name);
    if (name === 'mode') args.mode = value as ProxyArgs['mode'];
    else args[name] = value;
  }
  return args;
}
