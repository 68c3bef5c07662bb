/**
 * One condition of a rule's `args`: an argument path and its matcher (docs/policy.md#args), checked
 * when the config loads and compiled once per rule. Text matchers never fail open on a value's type:
 * an array matches when any element does, a number, boolean or null is tested as its JSON text, and
 * an object (which the upstream might read in a way ratri cannot see) always matches.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ArgMatcher } from '../config/types.js';
import { argPathProblem, compileArgPath, MAX_DEPTH } from './arg-path.js';
import { globToRegExp } from './glob.js';
import { folderProblem, isUnder, normaliseFolder, type PathOptions, readPath } from './path-value.js';

/** The fields that say what a matcher tests; a matcher has exactly one of them. */
export const MATCHER_KINDS = ['regex', 'glob', 'equals', 'exists', 'under', 'notUnder'] as const;

/** Whether a call's arguments satisfy one `args` condition. */
export type ArgCondition = (args: Record<string, unknown>) => boolean;

const FIELD_NEEDS: ReadonlyArray<[keyof ArgMatcher, ReadonlyArray<keyof ArgMatcher>]> = [
  ['flags', ['regex']],
  ['base', ['under', 'notUnder']],
  ['caseInsensitive', ['under', 'notUnder']],
];

/** What is wrong with a matcher; `field` is the matcher's field, absent for the path or the whole matcher. */
export interface MatcherProblem {
  field?: keyof ArgMatcher;
  message: string;
}

/** Problems with a regular expression and its flags (`field` names which); shared with content-matcher.ts. */
export function regexProblems(regex: string, flags: unknown): MatcherProblem[] {
  const inline = /\(\?([a-zA-Z]+)\)/.exec(regex);
  if (inline)
    return [
      {
        field: 'regex',
        message: `inline flags "${inline[0]}" are not JavaScript syntax: remove them and set "flags": "${inline[1]!.toLowerCase()}"`,
      },
    ];
  if (typeof flags === 'string') {
    if (/[gy]/.test(flags))
      return [
        {
          field: 'flags',
          message:
            '"g" and "y" are not allowed (they make a regular expression remember where it stopped, so one value would match on one call and not the next); use i, m, s or u',
        },
      ];
    if (!/^[imsu]*$/.test(flags)) return [{ field: 'flags', message: `"${flags}" may only use i, m, s and u` }];
  }
  try {
    new RegExp(regex, typeof flags === 'string' ? flags : undefined);
    return [];
  } catch (err) {
    return [{ field: 'regex', message: `is not a valid regular expression (${(err as Error).message})` }];
  }
}

/** Problems with one `args` entry (its path and its matcher), for the config loader. */
export function matcherProblems(path: string, matcher: ArgMatcher): MatcherProblem[] {
  const problems: MatcherProblem[] = [];
  const pathProblem = argPathProblem(path);
  if (pathProblem) problems.push({ message: pathProblem });
  const kinds = MATCHER_KINDS.filter((k) => k in matcher);
  if (kinds.length !== 1) {
    problems.push({
      message: `must have exactly one of ${MATCHER_KINDS.join(', ')}${kinds.length > 1 ? ` (it has ${kinds.join(' and ')})` : ''}`,
    });
  }
  for (const [field, needs] of FIELD_NEEDS) {
    if (field in matcher && !needs.some((n) => n in matcher))
      problems.push({ field, message: `only works with ${needs.map((n) => `"${n}"`).join(' or ')}` });
  }
  if (typeof matcher.regex === 'string') problems.push(...regexProblems(matcher.regex, matcher.flags));
  for (const field of ['under', 'notUnder', 'base'] as const) {
    const folder = matcher[field];
    const message = typeof folder === 'string' ? folderProblem(folder) : undefined;
    if (message) problems.push({ field, message });
  }
  return problems;
}

/**
 * A value test built from a test on text: strings as they are; numbers, booleans and null as their
 * JSON text; an array when any element passes; an object always passes (refuse rather than guess).
 */
function onText(test: (text: string) => boolean): (value: unknown) => boolean {
  const check = (value: unknown, depth: number): boolean => {
    if (typeof value === 'string') return test(value);
    if (Array.isArray(value)) return depth >= MAX_DEPTH || value.some((v) => check(v, depth + 1));
    if (value !== null && typeof value === 'object') return true;
    return test(JSON.stringify(value));
  };
  return (value) => check(value, 0);
}

/** `under` / `notUnder`: a text that cannot be read as one absolute path matches either. */
function onPath(folder: string, inside: boolean, options: PathOptions): (text: string) => boolean {
  const normalised = normaliseFolder(folder, options);
  return (text) => {
    const path = readPath(text, options);
    return path === undefined || isUnder(path, normalised) === inside;
  };
}

function valueTest(matcher: ArgMatcher): (value: unknown) => boolean {
  const options: PathOptions = { base: matcher.base, caseInsensitive: matcher.caseInsensitive };
  if (matcher.regex !== undefined) {
    const re = new RegExp(matcher.regex, matcher.flags);
    return onText((text) => re.test(text));
  }
  if (matcher.glob !== undefined) {
    const re = globToRegExp(matcher.glob);
    return onText((text) => re.test(text));
  }
  if (matcher.under !== undefined) return onText(onPath(matcher.under, true, options));
  if (matcher.notUnder !== undefined) return onText(onPath(matcher.notUnder, false, options));
  if ('equals' in matcher) return (value) => isDeepStrictEqual(value, matcher.equals);
  throw new Error('argument matcher without regex, glob, equals, under or notUnder (the config loader should have refused it)');
}

/** Compiles one `args` entry; the matcher must have passed matcherProblems. */
export function compileCondition(path: string, matcher: ArgMatcher): ArgCondition {
  const reach = compileArgPath(path);
  if (matcher.exists !== undefined) {
    const wanted = matcher.exists;
    return (args) => reach(args, () => true) === wanted;
  }
  const test = valueTest(matcher);
  return (args) => reach(args, test);
}
