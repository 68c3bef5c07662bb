/** `ratri mcp proxy --config FILE`: the stdio proxy a host launches in place of the upstream server. */
import type { CommandModule } from 'yargs';
import { ConfigError, loadProxyConfig } from '../../lib/config/load-config.js';
import type { Mode } from '../../lib/config/types.js';
import { ProxySession, signalExitCode } from '../../lib/proxy/proxy-session.js';
import { SpawnError } from '../../lib/proxy/upstream-process.js';
import { SessionRecorder } from '../../lib/replay/session-recorder.js';
import { proxyConfigAsFile } from '../../lib/replay/replay-config.js';

interface ProxyArgs {
  config: string;
  server?: string;
  mode?: Mode;
  environment?: string;
  record?: string;
}

function log(message: string): void {
  process.stderr.write(`ratri: ${message}\n`);
}

export const proxyCommand: CommandModule<object, ProxyArgs> = {
  command: 'proxy',
  describe: 'Run the stdio proxy in front of the upstream MCP server named in the config',
  builder: (y) =>
    y
      .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'Path to ratri.mcp.json' })
      .option('server', { type: 'string', describe: 'Which entry of "servers" to run' })
      .option('mode', { type: 'string', choices: ['monitor', 'enforce'] as const, describe: 'Override "mode"' })
      .option('environment', { type: 'string', describe: 'Override "environment"' })
      .option('record', { type: 'string', describe: 'Record the session to FILE in the golden format (see ratri replay)' })
      .example('$0 mcp proxy --config ratri.mcp.json', 'Proxy the upstream of ratri.mcp.json on stdin/stdout')
      .example('$0 mcp proxy --config ratri.mcp.json --server github --mode enforce', 'Run one server of a multi-server config, enforcing')
      .example('$0 mcp proxy -c ratri.mcp.json --record session.golden.jsonl', 'Capture a session for ratri replay'),
  handler: async (args) => {
    let config;
    try {
      config = loadProxyConfig(args.config, { server: args.server, mode: args.mode, environment: args.environment });
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`ratri: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    if (process.stdin.isTTY) {
      log(`proxying "${config.upstream.command}" (${config.mode} mode); reading MCP frames (one JSON-RPC message per line) from this terminal.`);
      log('an MCP host normally launches this command itself; see README.md for the host config. Ctrl-C stops.');
    }
    const recorder = args.record ? new SessionRecorder(args.record, proxyConfigAsFile(config)) : undefined;
    const session = new ProxySession({ config, hostIn: process.stdin, hostOut: process.stdout, log, recorder });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => {
        if (!session.stop(signal)) process.exit(signalExitCode(signal));
      });
    }
    try {
      process.exitCode = await session.run();
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`ratri: ${err.message}\n`);
        process.exit(2);
      }
      if (err instanceof SpawnError) {
        log(`${err.message}\n  fix: check "upstream.command" in ${args.config}`);
        process.exit(err.code === 'EACCES' ? 126 : 127);
      }
      throw err;
    }
    process.exit(process.exitCode);
  },
};
