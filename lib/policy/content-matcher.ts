/**
 * A rule's `content` condition (docs/policy.md#content): `{ "secrets": true }` matches when the
 * secret detector (lib/secrets/) found any secret in the value being judged, `{ "regex": "…",
 * "flags": "i" }` when the regular expression matches one of its texts. The matcher knows nothing of
 * phases: the caller hands it a ContentSubject, built from a call's arguments (argumentTexts) or an
 * upstream's result (resultTexts). A subject never scanned for secrets matches `secrets`: refuse
 * rather than guess.
 */
import type { ContentMatcher } from '../config/types.js';
import type { SecretSpan } from '../secrets/find-secrets.js';
import { type MatcherProblem, regexProblems } from './arg-matcher.js';
import { MAX_DEPTH } from './arg-path.js';

/** What a `content` condition looks at. */
export interface ContentSubject {
  /** Every string value at any depth of the arguments, or of the answer's result or error. */
  texts: readonly string[];
  /** The secrets found in the value's JSON text; undefined when it was not scanned. */
  secrets: readonly SecretSpan[] | undefined;
}

export type ContentCondition = (subject: ContentSubject) => boolean;

/** Every string value of a call's arguments (not the keys); a subtree deeper than MAX_DEPTH as its JSON text. */
export function argumentTexts(args: unknown): string[] {
  const texts: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'string') texts.push(value);
    else if (value === null || typeof value !== 'object') return;
    else if (depth >= MAX_DEPTH) texts.push(JSON.stringify(value));
    else for (const v of Array.isArray(value) ? value : Object.values(value)) walk(v, depth + 1);
  };
  walk(args, 0);
  return texts;
}

/**
 * The texts of an upstream's answer to a `tools/call` (its `result`, or its `error`): every string
 * value at any depth, as for arguments, but for the `type` of each `content[]` item (`"text"`,
 * `"image"`: the protocol's words, not the server's). Not only `content[].text`: a host may show the
 * model `structuredContent`, an embedded resource's text or an error's message just as well.
 */
export function resultTexts(result: unknown): string[] {
  const content = (result as { content?: unknown } | null)?.content;
  if (!Array.isArray(content)) return argumentTexts(result);
  const { content: _, ...rest } = result as Record<string, unknown>;
  const items = content.map((item) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    const { type: _type, ...fields } = item as Record<string, unknown>;
    return fields;
  });
  return [...argumentTexts(items), ...argumentTexts(rest)];
}

/** Problems with a `content` condition, for the config loader; `field` is the condition's field. */
export function contentProblems(matcher: ContentMatcher): Array<MatcherProblem & { field?: string }> {
  const kinds = (['secrets', 'regex'] as const).filter((k) => k in matcher);
  if (kinds.length !== 1)
    return [{ message: `must have exactly one of "secrets" and "regex"${kinds.length > 1 ? ' (it has both: use two rules)' : ''}` }];
  if ('flags' in matcher && !('regex' in matcher)) return [{ field: 'flags', message: 'only works with "regex"' }];
  return typeof matcher.regex === 'string' ? regexProblems(matcher.regex, matcher.flags) : [];
}

/** Compiles a `content` condition that passed contentProblems. */
export function compileContentCondition(matcher: ContentMatcher): ContentCondition {
  if (matcher.secrets === true) return (subject) => subject.secrets === undefined || subject.secrets.length > 0;
  if (matcher.regex !== undefined) {
    const re = new RegExp(matcher.regex, matcher.flags);
    return (subject) => subject.texts.some((text) => re.test(text));
  }
  throw new Error('content matcher without secrets or regex (the config loader should have refused it)');
}

/** The secret rules that found something, for messages: names only, never a value. */
export function secretRulesFound(secrets: readonly SecretSpan[]): string[] {
  return [...new Set(secrets.map((s) => s.ruleId))];
}
