/**
 * The built `ratri` names the fix when it is used wrongly: an unknown command lists the commands, a
 * missing subcommand or positional says which, and an unknown flag is reported even when a required
 * option is missing too. Each exits 2 and writes nothing to stdout.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const TOP_COMMANDS = 'mcp, init, replay FILES…, serve, approvals, grants, events, tools, store, demo, dashboard, doctor, rules COMMAND';

async function usageError(...args: string[]): Promise<string> {
  const r = await runCli(args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const [first, second] = r.stderr.split('\n');
  expect(second).toBe('Run "ratri --help" for usage.');
  return first ?? '';
}

describe('ratri usage errors', () => {
  it('an unknown command lists the commands, with a suggestion when one is close', async () => {
    expect(await usageError('bogus')).toBe(`ratri: unknown command "bogus"; the commands are: ${TOP_COMMANDS} (did you mean tools?)`);
    expect(await usageError('mcpp', 'proxy')).toBe(`ratri: unknown command "mcpp"; the commands are: ${TOP_COMMANDS} (did you mean mcp?)`);
    expect(await usageError('approvals', 'approv', 'apr_1')).toBe(
      'ratri approvals: unknown command "approv"; the commands are: list, watch, show ID, approve [ID], reject [ID] (did you mean approve?)',
    );
    expect(await usageError('mcp', 'serve')).toBe('ratri mcp: unknown command "serve"; the commands are: proxy');
  });

  it('no command, or a group without its subcommand, lists what to name', async () => {
    expect(await usageError()).toBe(`ratri: name a command: ${TOP_COMMANDS}`);
    expect(await usageError('mcp')).toBe('ratri mcp: name a subcommand: proxy');
    expect(await usageError('approvals', '--json')).toBe(
      'ratri approvals: name a subcommand: list, watch, show ID, approve [ID], reject [ID]',
    );
    expect(await usageError('tools')).toBe('ratri tools: name a subcommand: list, trust TOOL');
    expect(await usageError('store')).toBe('ratri store: name a subcommand: info, prune');
    expect(await usageError('grants')).toBe('ratri grants: name a subcommand: list, revoke ID');
  });

  it('a missing id or file says which, with the usage line', async () => {
    expect(await usageError('approvals', 'approve')).toBe(
      'ratri approvals approve: name the approval: ratri approvals approve ID, or ratri approvals approve --last (the newest pending one)',
    );
    expect(await usageError('approvals', 'reject', '--by', 'me')).toBe(
      'ratri approvals reject: name the approval: ratri approvals reject ID, or ratri approvals reject --last (the newest pending one)',
    );
    expect(await usageError('tools', 'trust')).toBe('ratri tools trust: missing <tool>; usage: ratri tools trust <tool>');
    expect(await usageError('replay')).toBe('ratri replay: missing <files..>; usage: ratri replay <files..>');
  });

  it('a missing required option names the flag and what to pass', async () => {
    // Without --config, `mcp proxy` can also run a command: the message names both.
    const proxy = await runCli(['mcp', 'proxy']);
    expect(proxy.code).toBe(2);
    expect(proxy.stdout).toBe('');
    expect(proxy.stderr).toContain(
      '--config: required: the ratri.mcp.json to run, or try ratri without one: ratri mcp proxy -- COMMAND ARGS…',
    );
    expect(await usageError('store', 'prune', '--dry-run')).toBe(
      'ratri store prune: missing --older-than: how old the history to delete is: --older-than 30d (or 12h, or a date)',
    );
  });

  it('an unknown flag is reported even when a required option is missing too', async () => {
    expect(await usageError('mcp', 'proxy', '--confg', 'ratri.mcp.json')).toBe(
      'ratri mcp proxy: unknown option --confg (ratri mcp proxy --help lists the options)',
    );
    expect(await usageError('store', 'prune', '--older-then', '30d')).toBe(
      'ratri store prune: unknown option --older-then (ratri store prune --help lists the options)',
    );
    expect(await usageError('events', 'extra', '--tool', 'x', '--bogus', '-z')).toBe(
      'ratri events: unknown option --bogus, -z; unexpected argument "extra" (ratri events --help lists the options)',
    );
  });
});
