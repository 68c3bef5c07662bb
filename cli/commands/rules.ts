/** `ratri rules test`: what the rules decide for one call, and why; the exit code says the decision. */
import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../lib/config/load-config.js';
import {
  DECISION_EXIT,
  OptionError,
  type RulesTestInput,
  type RulesTestResult,
  renderRulesTest,
  runRulesTest,
} from '../../lib/policy/rules-test.js';
import { colourOn, fail } from '../store-options.js';

interface TestArgs extends RulesTestInput {
  json: boolean;
}

const testCommand: CommandModule<object, TestArgs> = {
  command: 'test',
  describe: 'Show what the rules decide for one tool call, which rule decided and why the others did not match',
  builder: (y) =>
    (y as Argv)
      .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'The ratri.mcp.json whose rules to try' })
      .option('server', { type: 'string', describe: 'Which entry of "servers" (its rules, serverName and environment)' })
      .option('environment', { type: 'string', describe: 'Override "environment"' })
      .option('tool', { type: 'string', demandOption: true, describe: 'The bare tool name, as a host sends it' })
      .option('args', { type: 'string', describe: "The call's arguments as a JSON object (default {})" })
      .option('annotations', { type: 'string', describe: "The tool's annotations as JSON, as tools/list gives them" })
      .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON' })
      .example(`$0 rules test -c ratri.mcp.json --tool read_file --args '{"path":"/etc/passwd"}'`, 'Blocked? by which rule?')
      .example(`$0 rules test -c ratri.mcp.json --tool delete_file --annotations '{"destructiveHint":true}' --json`, 'For a script')
      .epilog(
        'Exit code: 0 allow or warn, 3 block, 4 require_approval, 2 for a wrong config or option. See docs/policy.md.',
      ) as unknown as Argv<TestArgs>,
  handler: async (args) => {
    let result: RulesTestResult;
    try {
      result = await runRulesTest(args);
    } catch (err) {
      if (err instanceof ConfigError || err instanceof OptionError) fail(err.message, 2);
      throw err;
    }
    const text = args.json ? JSON.stringify(result, null, 2) : renderRulesTest(result, colourOn());
    const code = DECISION_EXIT[result.decision];
    process.stdout.write(`${text}\n`, () => process.exit(code));
  },
};

export const rulesCommand: CommandModule = {
  command: 'rules <command>',
  describe: 'Try guardrail rules before trusting them',
  builder: (y) =>
    y
      .command(testCommand)
      .demandCommand(1, 'Name one: ratri rules test --config FILE --tool NAME [--args JSON]')
      .example(`$0 rules test -c ratri.mcp.json --tool exec --args '{"cmd":"rm -rf /"}'`, 'What the rules decide for this call'),
  handler: () => undefined,
};
