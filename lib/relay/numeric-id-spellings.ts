/**
 * Pending numeric ids the host spelled in a way JSON.stringify would not (`7.0`, `1e2`, `-0`), by
 * the spelling an upstream that parses and re-serialises ids writes back (`7`, `100`, `0`). Ids are
 * matched by their exact text (`7` and `7.0` are two requests), so without this an SDK server's
 * answer to `7.0` would settle nothing. An answer whose text matches no pending request settles the
 * one pending request with the same numeric value — only when there is exactly one (docs/errors.md).
 * For the same reason a second request with the same number (`7` while `7.0` is pending) is one the
 * upstream cannot tell from the first: `sameNumberPending` finds it, and enforce mode refuses it.
 */

/** Digits only, no leading zero, at most 15 of them: JSON.stringify writes such a number as it is. */
function isPlainInteger(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 15 || (n > 1 && key.charCodeAt(0) === 48)) return false;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The JSON.stringify spelling of a numeric id's text; undefined for a string or null id. */
function canonicalNumber(key: string): string | undefined {
  const first = key.charCodeAt(0);
  if (first !== 45 /* - */ && (first < 48 || first > 57)) return undefined;
  if (isPlainInteger(key)) return key; // most ids: no parse needed
  try {
    return JSON.stringify(JSON.parse(key));
  } catch {
    return undefined;
  }
}

/** What an id key stands for: a numeric id's JSON.stringify spelling (`7.0` → `7`), any other key as it is. */
export function idValue(key: string): string {
  return canonicalNumber(key) ?? key;
}

/** Whether two ids' texts are the same number (`7`, `7.0`, `70e-1`); false for strings and null. */
export function sameNumber(a: string, b: string): boolean {
  const value = canonicalNumber(a);
  return value !== undefined && value === canonicalNumber(b);
}

export class NumericIdSpellings {
  private readonly byValue = new Map<string, Set<string>>();

  /** A request id now pending; remembered only when spelled unlike JSON.stringify. */
  add(key: string): void {
    const value = canonicalNumber(key);
    if (value === undefined || value === key) return;
    const spellings = this.byValue.get(value);
    if (spellings) spellings.add(key);
    else this.byValue.set(value, new Set([key]));
  }

  /** A request id no longer pending. */
  delete(key: string): void {
    const value = canonicalNumber(key);
    if (value === undefined || value === key) return;
    const spellings = this.byValue.get(value);
    spellings?.delete(key);
    if (spellings?.size === 0) this.byValue.delete(value);
  }

  /** For an answer id that matches no pending request exactly: the only pending one with its numeric value, if just one. */
  match(answerKey: string, isPending: (key: string) => boolean): string | undefined {
    const value = canonicalNumber(answerKey);
    if (value === undefined) return undefined;
    const candidates = [...(this.byValue.get(value) ?? [])].filter((k) => k !== answerKey);
    if (value !== answerKey && isPending(value)) candidates.push(value);
    return candidates.length === 1 ? candidates[0] : undefined;
  }

  /** A pending id, other than `key` itself, that is the same number as `key`; undefined if none. */
  sameNumberPending(key: string, isPending: (key: string) => boolean): string | undefined {
    const value = canonicalNumber(key);
    if (value === undefined) return undefined;
    if (value !== key && isPending(value)) return value;
    const spellings = this.byValue.get(value);
    if (spellings) for (const spelling of spellings) if (spelling !== key) return spelling;
    return undefined;
  }

  clear(): void {
    this.byValue.clear();
  }
}
