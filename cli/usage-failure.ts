/**
 * Turns yargs' usage failures into messages that name the fix: an unknown command lists the
 * commands there are (at its level), a group named without a subcommand lists its subcommands, a
 * missing positional names itself and the usage line. Options that a command requires are checked
 * with `requiredOption`, after yargs' own checks, so an unknown flag is reported even when a required
 * one is missing too.
 */
import type { Argv, CommandModule, Options } from 'yargs';

/** A command as these messages see it: yargs' `command` string, and a group's subcommands. */
export interface CommandNode {
  command?: string | readonly string[];
  subcommands?: readonly CommandNode[];
}

/** A command module that groups subcommands (`ratri approvals list|approve|reject`). */
export type GroupCommand<T, U> = CommandModule<T, U> & { subcommands: readonly CommandNode[] };

const usageOf = (node: CommandNode): string => (typeof node.command === 'string' ? node.command : (node.command?.[0] ?? ''));
const nameOf = (node: CommandNode): string => usageOf(node).split(' ')[0] ?? '';
/** `show <id>` → `show ID` and `approve [id]` → `approve [ID]`, the way the messages list a subcommand. */
const listed = (node: CommandNode): string =>
  usageOf(node)
    .replace(/<([^>.]+)(\.\.)?>/g, (_m, p: string, many?: string) => p.toUpperCase() + (many ? '…' : ''))
    .replace(/\[([^\].]+)\]/g, (_m, p: string) => `[${p.toUpperCase()}]`);

/** The words before the first flag (`approvals approve` of `approvals approve --by me`). */
function leadingWords(args: readonly string[]): string[] {
  const end = args.findIndex((a) => a.startsWith('-'));
  return args.slice(0, end === -1 ? args.length : end);
}

const camelCase = (name: string): string => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** yargs' `Unknown arguments: older-then, olderThen` as `unknown option --older-then`, or undefined for other messages. */
function unknownArguments(message: string, args: readonly string[], command: string): string | undefined {
  const names = /^Unknown arguments?: (.+)$/.exec(message)?.[1]?.split(', ');
  if (!names) return undefined;
  const given = names.filter((n) => !names.some((other) => other !== n && camelCase(other) === n));
  const isFlag = (n: string): boolean => args.some((a) => a === `--${n}` || a.startsWith(`--${n}=`) || a === `-${n}`);
  const flags = given.filter(isFlag).map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
  const words = given.filter((n) => !isFlag(n)).map((n) => `"${n}"`);
  const parts = [flags.length ? `unknown option ${flags.join(', ')}` : '', words.length ? `unexpected argument ${words.join(', ')}` : ''];
  return `${parts.filter(Boolean).join('; ')} (${command} --help lists the options)`;
}

/** The message for a yargs failure `message` on the command line `args` (without node and the script). */
export function explainUsageFailure(message: string, args: readonly string[], commands: readonly CommandNode[]): string {
  const path = ['ratri'];
  let level = commands;
  for (const word of leadingWords(args)) {
    const node = level.find((c) => nameOf(c) === word);
    if (!node) {
      const hint = /^Did you mean (\S+)\?$/.exec(message)?.[1];
      return `${path.join(' ')}: unknown command "${word}"; the commands are: ${level.map(listed).join(', ')}${hint ? ` (did you mean ${hint}?)` : ''}`;
    }
    path.push(nameOf(node));
    if (!node.subcommands) {
      const missing = /^Not enough non-option arguments/.test(message) ? usageOf(node).match(/<[^>]+>/g) : null;
      if (missing) return `${path.join(' ')}: missing ${missing.join(' ')}; usage: ${path.slice(0, -1).join(' ')} ${usageOf(node)}`;
      return `${path.join(' ')}: ${unknownArguments(message, args, path.join(' ')) ?? message}`;
    }
    level = node.subcommands;
  }
  return `${path.join(' ')}: name a ${path.length === 1 ? 'command' : 'subcommand'}: ${level.map(listed).join(', ')}`;
}

/**
 * A required string option, checked by a yargs `.check()`: unlike `demandOption`, that runs after
 * yargs' strict check of unknown flags, so a mistyped flag is reported first instead of hidden
 * behind this one. `what` says what to pass (`the path to the config file: --config FILE`).
 */
export function requiredOption<T, K extends string>(y: Argv<T>, key: K, option: Options, what: string): Argv<T & { [k in K]: string }> {
  return y
    .option(key, { ...option, type: 'string', describe: `${option.describe ?? ''} (required)` })
    .check((argv) => argv[key] !== undefined || `missing --${key}: ${what}`) as unknown as Argv<T & { [k in K]: string }>;
}
