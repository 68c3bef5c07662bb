/**
 * `--approver-key-env NAME` of the commands that talk to `ratri serve` with a config's `api`
 * (docs/api.md#keys-and-roles). Commands that read (`ratri events`, `ratri tools list`) send the key of
 * `api.keyEnv`, or, when this names a variable, the approver key in it. Commands that resolve
 * (`ratri approvals approve|reject`, `ratri grants revoke`) need the approver key: they read
 * `RATRI_APPROVER_KEY` when it is set and the option is left out. Either way a variable the option
 * names that is not set is an error, never a silent fall back to the proxy key.
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

/** For the commands that resolve: the variable the option names (exit 2 when unset), else RATRI_APPROVER_KEY if set. */
export function resolvingKeyOf(args: ApproverKeyArgs): string | undefined {
  if (args['approver-key-env'] === undefined) return process.env.RATRI_APPROVER_KEY || undefined;
  return approverKeyOf(args);
}
