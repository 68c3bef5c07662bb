/** `ratri demo [--json] [--keep]`: a guided run of the real proxy in front of the bundled demo server. */
import type { CommandModule } from 'yargs';
import { formatIntro, formatJson, formatStep, formatSummary } from '../../lib/demo/demo-report.js';
import { type DemoSummary, runDemo } from '../../lib/demo/demo-run.js';
import { colourOn, fail } from '../store-options.js';

interface DemoArgs {
  json: boolean;
  keep: boolean;
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'See ratri allow, block, hold and approve tool calls in a 10-second offline run',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'Print a JSON summary instead of the walk-through' })
      .option('keep', {
        type: 'boolean',
        default: false,
        describe: 'Keep the workspace, and the store in $RATRI_HOME/demo.db, to look at afterwards',
      })
      .example('$0 demo', 'Watch a scripted session through ratri')
      .example('$0 demo --keep', 'Then: ratri events --store ~/.ratri/demo.db'),
  handler: async (args) => {
    const colour = colourOn();
    const out = (text: string): boolean => process.stdout.write(text);
    // Ctrl-C: the demo stops its proxy and deletes its workspace before exiting; a second one exits at once.
    const interrupt = new AbortController();
    process.on('SIGINT', () => {
      if (interrupt.signal.aborted) process.exit(130);
      interrupt.abort(new Error('interrupted'));
    });
    let summary: DemoSummary;
    try {
      summary = await runDemo({
        keep: args.keep,
        signal: interrupt.signal,
        onStart: (ws) => void (args.json || out(`${formatIntro(ws, colour)}\n`)),
        onStep: (step) => void (args.json || out(`${formatStep(step, colour)}\n`)),
      });
    } catch (err) {
      if (interrupt.signal.aborted) {
        process.stderr.write('ratri demo: interrupted; the proxy was stopped and the workspace cleaned up\n');
        process.exit(130);
      }
      fail(`demo: ${(err as Error).message}`);
    }
    out(args.json ? formatJson(summary) : formatSummary(summary, colour));
    process.exitCode = summary.ok ? 0 : 1;
  },
};
