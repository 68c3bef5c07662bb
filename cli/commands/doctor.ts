/** `ratri doctor --mcp --mcp-config FILE`: parses the options, runs lib/doctor, prints, sets the exit code. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { type DoctorOptions, runDoctor } from '../../lib/doctor/doctor.js';
import { runHostDoctor } from '../../lib/doctor/host-doctor.js';
import { ProgressLine, renderCheck, renderHeader, renderJson, renderSection, renderSummary } from '../../lib/doctor/report.js';
import { killAllNow } from '../../lib/doctor/upstream-child.js';
import { packageRoot } from '../../lib/node/package-files.js';
import { signalExitCode } from '../../lib/session/exit-code.js';
import { colourOn, fail } from '../store-options.js';

interface DoctorArgs {
  mcp: boolean;
  'mcp-config'?: string;
  'host-config'?: string;
  server?: string;
  json: boolean;
  timeout: number;
}

function ratriVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Writes and exits once the text is flushed (a pipe may still hold it when process.exit runs). */
function finish(text: string, code: number): void {
  process.stdout.write(text, () => process.exit(code));
}

/** The `ratri doctor` command module. */
export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor',
  describe: 'Check a setup end to end: config, upstream, MCP handshake, tools, rule decisions, control plane',
  builder: (y) =>
    y
      .option('mcp', { type: 'boolean', default: false, describe: 'Check an MCP proxy setup (the only kind for now)' })
      .option('mcp-config', { alias: ['config', 'c'], type: 'string', describe: 'The ratri.mcp.json to check' })
      .option('host-config', {
        type: 'string',
        describe: "Instead: a host's config (as ratri init wrote it); each entry that starts ratri is launched as the host would",
      })
      .option('server', { type: 'string', describe: 'Check only this entry of "servers" (with --host-config: this host entry)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON instead of a checklist' })
      .option('timeout', {
        type: 'number',
        default: 10_000,
        describe: 'Longest wait, in ms, for one answer (initialize, a tools/list page, the API)',
      })
      .example('$0 doctor --mcp --mcp-config ratri.mcp.json', 'Check every server of the config')
      .example(
        '$0 doctor --mcp --mcp-config ratri.mcp.json --server github --timeout 60000',
        'One server, which npx may first have to download',
      )
      .example('$0 doctor --mcp --mcp-config ratri.mcp.json --json', 'The checks as JSON, for scripts')
      .example('$0 doctor --mcp --host-config ~/.cursor/mcp.json', 'Every Cursor entry ratri init wrapped, end to end')
      .epilog(
        'Exit code: 0 when every check passed (warnings allowed), 1 when one failed, 2 for a wrong command line. See docs/doctor.md.',
      ),
  handler: async (args) => {
    if (!args.mcp) fail('ratri doctor checks MCP setups: use --mcp --mcp-config FILE', 2);
    const configPath = args['mcp-config'];
    const hostConfig = args['host-config'];
    if (configPath !== undefined && hostConfig !== undefined)
      fail("give --mcp-config FILE (a ratri config) or --host-config FILE (a host's config), not both", 2);
    if ((configPath ?? hostConfig ?? '') === '')
      fail(
        "--mcp-config FILE is required: the ratri.mcp.json to check (or --host-config FILE: a host's config that ratri init wrapped)",
        2,
      );
    if (!Number.isInteger(args.timeout) || args.timeout < 1)
      fail(`--timeout must be a whole number of milliseconds, at least 1, not ${String(args.timeout)}`, 2);

    const colour = !args.json && colourOn();
    const progress = new ProgressLine(process.stderr, process.stderr.isTTY === true && !process.env.NO_COLOR);
    const controller = new AbortController();
    let firstSignal: NodeJS.Signals | undefined;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => {
        if (firstSignal === undefined) {
          // First signal: stop the upstream the gentle way, then report what ran.
          firstSignal = signal;
          controller.abort();
          return;
        }
        killAllNow();
        process.exit(signalExitCode(firstSignal));
      });
    }
    // Last resort: whatever way the process ends, no upstream outlives it.
    process.on('exit', killAllNow);

    const out = (text: string): void => void (args.json ? undefined : process.stdout.write(`${text}\n`));
    out(renderHeader((configPath ?? hostConfig)!, colour));
    const common: Omit<DoctorOptions, 'configPath'> = {
      server: args.server,
      timeoutMs: args.timeout,
      version: ratriVersion(),
      colour,
      signal: controller.signal,
      onCheck: (check) => out(renderCheck(check, colour)),
      onSection: (s) => out(renderSection(s, colour)),
      onProgress: (text) => progress.show(text),
    };
    const report =
      hostConfig !== undefined ? await runHostDoctor({ ...common, hostConfig }) : await runDoctor({ ...common, configPath: configPath! });
    const code = report.interrupted ? signalExitCode(firstSignal ?? 'SIGINT') : report.ok ? 0 : 1;
    finish(args.json ? `${renderJson(report)}\n` : `${renderSummary(report, colour)}\n`, code);
  },
};
