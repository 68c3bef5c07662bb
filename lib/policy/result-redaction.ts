/**
 * `redact` on a result (docs/policy.md#phases-call-and-result): the values a result rule's `content`
 * matched are replaced in the answer the host gets. `secrets`: each detected secret becomes
 * `[REDACTED:<secret rule>]` wherever it is in the result (lib/secrets/json-secrets.ts);
 * `regex`: each match becomes `[REDACTED:<rule id>]` in the texts a host shows the model —
 * `content[].text`, an embedded resource's `resource.text` and every string inside
 * `structuredContent`, which mirrors them. A match anywhere else (an error's message, a `_meta`
 * value) cannot be cut out without changing what the answer means: the answer is refused instead
 * (result-rules.ts, stillMatches).
 */
import type { RuleConfig } from '../config/types.js';
import { type JsonSecrets, redactedValue } from '../secrets/json-secrets.js';
import { resultTexts } from './content-matcher.js';

export interface Redacted {
  result: unknown;
  /** How many values were replaced. */
  redactions: number;
}

/** Replaces every match of `re` (made global) in the strings of `value`; counts into `count`. */
function replaceStrings(value: unknown, re: RegExp, marker: string, count: { n: number }, depth = 0): unknown {
  if (typeof value === 'string') {
    return value.replace(re, () => {
      count.n++;
      return marker;
    });
  }
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v) => replaceStrings(v, re, marker, count, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStrings(v, re, marker, count, depth + 1)]));
}

/** A `content[]` item with its text redacted: a text item's `text`, an embedded resource's `resource.text`. */
function redactContentItem(item: unknown, re: RegExp, marker: string, count: { n: number }): unknown {
  const c = item as { type?: unknown; text?: unknown; resource?: { text?: unknown } } | null;
  if (c?.type === 'text' && typeof c.text === 'string') return { ...c, text: replaceStrings(c.text, re, marker, count) };
  if (c?.type === 'resource' && typeof c.resource?.text === 'string')
    return { ...c, resource: { ...c.resource, text: replaceStrings(c.resource.text, re, marker, count) } };
  return item;
}

/** Whether `re` still matches a string anywhere in `value` (a match redaction could not reach). */
export function stillMatches(value: unknown, source: string, flags: string | undefined): boolean {
  const re = new RegExp(source, flags);
  return resultTexts(value).some((t) => re.test(t));
}

function redactRegex(result: unknown, rule: RuleConfig, source: string, flags: string | undefined, count: { n: number }): unknown {
  if (result === null || typeof result !== 'object') return result;
  const re = new RegExp(source, `${flags ?? ''}g`);
  const marker = `[REDACTED:${rule.id}]`;
  const r = result as { content?: unknown; structuredContent?: unknown };
  const out: Record<string, unknown> = { ...r };
  if (Array.isArray(r.content)) out.content = r.content.map((c) => redactContentItem(c, re, marker, count));
  if (r.structuredContent !== undefined) out.structuredContent = replaceStrings(r.structuredContent, re, marker, count);
  return out;
}

/** The result with what each of `rules` (redact rules that matched) finds replaced; `found`: the result's secret scan. */
export function redactResult(result: unknown, rules: readonly RuleConfig[], found: JsonSecrets | undefined): Redacted {
  const count = { n: 0 };
  let out = result;
  if (found && found.spans.length > 0 && rules.some((r) => r.content?.secrets === true)) {
    out = redactedValue(out, found);
    count.n += found.spans.length;
  }
  for (const rule of rules) {
    const regex = rule.content?.regex;
    if (regex !== undefined) out = redactRegex(out, rule, regex, rule.content?.flags, count);
  }
  return { result: out, redactions: count.n };
}
