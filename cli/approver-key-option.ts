/**
 * `--approver-key-env NAME` of the commands that read a team's records through `ratri serve`
 * (`ratri events`, `ratri tools list`): they send the key of `api.keyEnv`, as every command with
 * that config does, or, when this names a variable, the approver key in it (docs/api.md#keys-and-roles).
 */
import type { Argv } from 'yargs';
import { fail } from './store-options.js';

export interface ApproverKeyArgs {
  'approver-key-env'?: string;
}

export function withApproverKeyOption<T>(y: Argv<T>): Argv<T & ApproverKeyArgs> {
  return y.option('approver-key-env', {
    type: 'string',
    describe: 'With a config that has "api": send the approver key in this environment variable instead of the key of api.keyEnv',
  }) as Argv<T & ApproverKeyArgs>;
}

/** The approver key `--approver-key-env` names; exits (2) naming the variable when it is not set. Undefined without the option. */
export function approverKeyOf(args: ApproverKeyArgs): string | undefined {
  const name = args['approver-key-env'];
  if (name === undefined) return undefined;
  const key = process.env[name];
  if (!key)
    fail(
      `--approver-key-env: the environment variable ${name} is ${key === undefined ? 'not set' : 'empty'}; set it to the approver key, or leave the option out to send the key of api.keyEnv`,
      2,
    );
  return key;
}
