/**
 * The secret detector (docs/secrets.md): where secretlint's rules find secrets in a text, as
 * `{ ruleId, start, end }` spans (UTF-16 offsets, `ruleId` the rule's short name). The prefilter runs
 * first, and a text it lets nothing through in is answered synchronously, so the common case costs
 * microseconds and keeps a call's place in the stream; otherwise the answer is a promise, as
 * secretlint's is. Spans are what the rules report: they may start before a value (a key name) or
 * run past its end (redact-secrets.ts copes with both).
 */
import { makePrefilter } from './prefilter.js';
import { SECRET_RULES, shortRuleName } from './rule-names.js';

export interface SecretSpan {
  ruleId: string;
  start: number;
  end: number;
}

/** The rules a scan leaves out (`secrets.disabledRules`, short names). */
export interface SecretRuleChoice {
  disabledRules?: readonly string[];
}

/** A detector for one choice of rules; `mayHold` is its prefilter alone. */
export interface FindSecrets {
  (text: string): SecretSpan[] | Promise<SecretSpan[]>;
  mayHold(text: string): boolean;
  /**
   * The prefilter for one string of a record that is stored as it is (json-secrets.ts): short
   * strings it lets nothing through in are remembered, so the names and values every record repeats
   * are tested once. Only those are kept: never a string that may hold a secret.
   */
  mayHoldRemembered(text: string): boolean;
}

/** Strings up to this length are remembered: member names and the values every call repeats. */
const REMEMBERED_CHARS = 64;
/** How many strings are remembered at most; the memo starts again when it is full. */
const REMEMBERED_MAX = 4096;

/** The prefilter with a memo of the short strings it lets nothing through in. */
function rememberingPrefilter(mayHold: (text: string) => boolean): (text: string) => boolean {
  const clean = new Set<string>();
  return (text) => {
    if (clean.has(text)) return false;
    if (mayHold(text)) return true;
    if (text.length <= REMEMBERED_CHARS) {
      if (clean.size >= REMEMBERED_MAX) clean.clear();
      clean.add(text);
    }
    return false;
  };
}

const NONE: SecretSpan[] = [];

type Lint = (text: string) => Promise<SecretSpan[]>;

/**
 * secretlint and its rules, loaded on the first text the prefilter lets through (~100 ms of module
 * loading that a proxy start would otherwise pay, docs/performance.md).
 */
async function loadLint(disabled: readonly string[]): Promise<Lint> {
  const [{ lintSource }, { silenceSecretlintProfiler }, { secretlintConfig }] = await Promise.all([
    import('@secretlint/core'),
    import('./profile-forget.js'),
    import('./secret-rules.js'),
  ]);
  silenceSecretlintProfiler();
  const config = secretlintConfig(disabled);
  return (text) => {
    // `.json` lets the gcp rule read a service account key file given whole; the name is never read from disk.
    const source = { content: text, filePath: 'scanned.json', ext: '.json', contentType: 'text' as const };
    return lintSource({ source, options: { config, noPhysicFilePath: true } }).then((result) =>
      result.messages.map((m) => ({ ruleId: shortRuleName(m.ruleId), start: m.range[0], end: m.range[1] })),
    );
  };
}

function makeFinder(disabled: readonly string[]): FindSecrets {
  const running = SECRET_RULES.filter((r) => !disabled.includes(r));
  const mayHold = makePrefilter(running);
  let lint: Promise<Lint> | undefined;
  const find = (text: string): SecretSpan[] | Promise<SecretSpan[]> => {
    if (!mayHold(text)) return NONE;
    lint ??= loadLint(disabled);
    return lint.then((run) => run(text));
  };
  return Object.assign(find, { mayHold, mayHoldRemembered: rememberingPrefilter(mayHold) });
}

const finders = new Map<string, FindSecrets>();

/** The detector for one choice of rules, built once per distinct choice. */
export function secretFinder(choice: SecretRuleChoice = {}): FindSecrets {
  const disabled = [...new Set(choice.disabledRules ?? [])].sort();
  const key = disabled.join('\n');
  let finder = finders.get(key);
  if (!finder) {
    finder = makeFinder(disabled);
    finders.set(key, finder);
  }
  return finder;
}

/** Where secrets are in `text`; synchronous (and empty) when the prefilter finds nothing that could be one. */
export function findSecrets(text: string, choice: SecretRuleChoice = {}): SecretSpan[] | Promise<SecretSpan[]> {
  return secretFinder(choice)(text);
}

/** Names in `disabledRules` that are not rules, for the config loader: each with the fix. */
export function unknownSecretRules(disabledRules: readonly string[]): string[] {
  return disabledRules.filter((r) => !SECRET_RULES.includes(r));
}
