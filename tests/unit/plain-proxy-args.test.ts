// cli/plain-proxy-args.ts reads the command line a host runs without yargs. It must never read a
// line differently from yargs: whenever it gives arguments, yargs, with the real `mcp proxy`
// command module, must accept the line and give the same ones.
import { describe, expect, it } from 'vitest';
import yargs, { type CommandModule } from 'yargs';
import { proxyCommand } from '../../cli/commands/mcp-proxy.js';
import type { ProxyArgs } from '../../cli/commands/mcp-proxy-args.js';
import { plainProxyArgs } from '../../cli/plain-proxy-args.js';

/** What yargs makes of `argv` with the real command modules (the handler replaced), or its error. */
async function yargsReading(argv: string[]): Promise<ProxyArgs | Error> {
  let read: ProxyArgs | undefined;
  const proxy: CommandModule<object, ProxyArgs> = {
    ...proxyCommand,
    // A copy, as the handler sees them: yargs takes `--` off its arguments object once the handler has run.
    handler: (args) => {
      read = { ...args, '--': args['--'] && [...args['--']] };
    },
  };
  try {
    await yargs(argv)
      .command({
        command: 'mcp',
        describe: 'x',
        builder: (y) => y.command(proxy as CommandModule).demandCommand(1),
        handler: () => undefined,
      })
      .demandCommand(1)
      .strict()
      .fail((message: string | null, err: unknown) => {
        throw err instanceof Error ? err : new Error(message ?? 'usage');
      })
      .exitProcess(false)
      .parseAsync();
  } catch (err) {
    return err as Error;
  }
  return read ?? new Error('the handler did not run');
}

/** The options runProxy reads, as plain data. */
const fields = (a: ProxyArgs) => ({
  config: a.config,
  '--': a['--']?.map(String),
  server: a.server,
  mode: a.mode,
  environment: a.environment,
  record: a.record,
  'record-unredacted': a['record-unredacted'],
  transport: a.transport,
  port: a.port,
  host: a.host,
  'allowed-origin': a['allowed-origin'],
  'auth-token-env': a['auth-token-env'],
  'session-idle-ms': a['session-idle-ms'],
  'max-sessions': a['max-sessions'],
  'request-timeout-ms': a['request-timeout-ms'],
});

const hostLines = [
  ['mcp', 'proxy', '--config', 'ratri.mcp.json'],
  ['mcp', 'proxy', '-c', '/home/me/ratri.mcp.json'],
  ['mcp', 'proxy', '--config=ratri.mcp.json'],
  ['mcp', 'proxy', '--config', 'ratri.mcp.json', '--server', 'github', '--mode', 'enforce'],
  ['mcp', 'proxy', '--mode=monitor', '--environment', 'prod', '-c', 'a b.json'],
  ['mcp', 'proxy', '--config', 'c.json', '--transport', 'stdio'],
  ['mcp', 'proxy', '--', 'npx', '-y', '@modelcontextprotocol/server-everything'],
  ['mcp', 'proxy', '--', 'node', 'server.js', '--port', '3', '--', 'x'],
  ['mcp', 'proxy', '--mode', 'enforce', '--', 'node', 'server.js'],
  ['mcp', 'proxy', '--config', 'c=d.json'],
  ['mcp', 'proxy', '--config', '123'],
];

describe('the plain reading of `ratri mcp proxy`', () => {
  it('reads the lines hosts run, exactly as yargs does', async () => {
    for (const argv of hostLines) {
      const plain = plainProxyArgs(argv);
      expect(plain, argv.join(' ')).toBeDefined();
      const viaYargs = await yargsReading(argv);
      expect(viaYargs, argv.join(' ')).not.toBeInstanceOf(Error);
      expect(fields(plain!), argv.join(' ')).toEqual(fields(viaYargs as ProxyArgs));
    }
  });

  it('leaves to yargs every line it does not read plainly', () => {
    const others = [
      ['mcp', 'proxy'].concat(['--help']),
      ['mcp', 'proxy', '-h'],
      ['mcp', 'proxy', '--version'],
      ['mcp', 'proxy', '--config'],
      ['mcp', 'proxy', '--config', '--mode', 'enforce'],
      ['mcp', 'proxy', '--config', 'a.json', '--config', 'b.json'],
      ['mcp', 'proxy', '--config', 'a.json', 'extra'],
      ['mcp', 'proxy', '--config', 'a.json', '--mode', 'audit'],
      ['mcp', 'proxy', '--config', 'a.json', '--transport', 'http'],
      ['mcp', 'proxy', '--config', 'a.json', '--record', 's.jsonl'],
      ['mcp', 'proxy', '--config', 'a.json', '--port', '3'],
      ['mcp', 'proxy', '--conf', 'a.json'],
      ['mcp', 'proxy', '--no-config'],
      ['mcp', 'proxy', '-c=a.json'],
      ['mcp', 'proxy', '-ca.json'],
      ['mcp', 'proxy', '--config='],
      ['mcp', 'proxy', '--Config', 'a.json'],
      ['mcp', 'proxy', '--server-name', 'x'],
      ['mcp', 'proxies', '--config', 'a.json'],
      ['mcp', '--config', 'a.json', 'proxy'],
      ['events', '--config', 'a.json'],
      [],
    ];
    for (const argv of others) expect(plainProxyArgs(argv), argv.join(' ')).toBeUndefined();
  });

  it('never reads a generated line otherwise than yargs', async () => {
    // Every line of up to three words from a pool of flags and values; wherever the plain reading
    // gives arguments, yargs must accept the line and give the same.
    const pool = [
      '--config',
      '-c',
      'a.json',
      '--mode',
      'enforce',
      'monitor',
      '--server',
      's',
      '--',
      '--config=x.json',
      '-',
      '--transport',
      'stdio',
      'proxy',
    ];
    let plainlyRead = 0;
    const lines: string[][] = [[]];
    let layer: string[][] = [[]];
    for (let n = 0; n < 3; n++) {
      layer = layer.flatMap((line) => pool.map((w) => [...line, w]));
      lines.push(...layer);
    }
    for (const rest of lines) {
      const argv = ['mcp', 'proxy', ...rest];
      const plain = plainProxyArgs(argv);
      if (!plain) continue;
      plainlyRead++;
      const viaYargs = await yargsReading(argv);
      expect(viaYargs, argv.join(' ')).not.toBeInstanceOf(Error);
      expect(fields(plain), argv.join(' ')).toEqual(fields(viaYargs as ProxyArgs));
    }
    expect(plainlyRead).toBeGreaterThan(100);
  });
});
