/** `ratri replay FILE…`: replays golden sessions against the proxy and reports byte differences. */
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { parseGolden } from '../../lib/replay/golden-format.js';
import { replay } from '../../lib/replay/replayer.js';

interface ReplayArgs {
  files: string[];
  timeout: number;
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: 'replay <files..>',
  describe: 'Replay golden session files against the proxy and report any byte difference',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'Golden session files (*.golden.jsonl)' })
      .option('timeout', { type: 'number', default: 5000, describe: 'How long (ms) to wait for each expected frame' })
      .example('$0 replay fixtures/*.golden.jsonl', 'Replay every golden session')
      .example('$0 replay session.golden.jsonl', 'Replay a session recorded with ratri mcp proxy --record'),
  handler: async (args) => {
    let failed = 0;
    for (const file of args.files) {
      let result;
      try {
        result = await replay(parseGolden(readFileSync(file, 'utf8'), file), { frameTimeoutMs: args.timeout });
      } catch (err) {
        failed++;
        process.stdout.write(`✗ ${file}: ${(err as Error).message}\n`);
        continue;
      }
      if (result.ok) {
        process.stdout.write(`✓ ${file} (${result.steps} steps)\n`);
      } else {
        failed++;
        process.stdout.write(`✗ ${file}\n${result.problems.map((p) => `    ${p}`).join('\n')}\n`);
        if (result.stderr.trim()) process.stdout.write(`    proxy stderr:\n${result.stderr.trim().replace(/^/gm, '      ')}\n`);
      }
    }
    process.stdout.write(`${args.files.length - failed} passed, ${failed} failed\n`);
    process.exitCode = failed > 0 ? 1 : 0;
  },
};
