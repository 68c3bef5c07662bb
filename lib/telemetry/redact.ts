/**
 * Replaces the values of `redactKeys` (keys case-folded as Go compares them, at any depth, in objects and arrays) with
 * "[REDACTED]". It returns a copy; the frame that goes upstream is never touched. Long strings are
 * cut so one huge argument cannot bloat every sink (never inside a secret: truncate-text.ts).
 */
import { foldKey } from '../jsonrpc/strict-scan.js';
import { truncateText } from './truncate-text.js';

export const REDACTED = '[REDACTED]';
export const MAX_STRING_CHARS = 4096;

export type Redactor = (value: unknown) => unknown;

/**
 * `truncate` cuts long strings; it is set where payloads enter an event (arguments), and left off for
 * the last pass over a whole event, so a string is never cut twice.
 */
export function makeRedactor(redactKeys: string[], options: { truncate: boolean } = { truncate: true }): Redactor {
  // Folded as Go compares keys: a Go server reads "PASSWORD" and "paſſword" as its field "password".
  const keys = new Set(redactKeys.map(foldKey));
  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') {
      return options.truncate ? truncateText(value, MAX_STRING_CHARS) : value;
    }
    if (value === null || typeof value !== 'object') return value;
    if (depth > 64) return '[too deep]';
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // Not `out[k] = …`: for a "__proto__" argument that would set the copy's prototype, so the
      // event would not show it and the inferred resource would read through it.
      Object.defineProperty(out, k, {
        value: keys.has(foldKey(k)) ? REDACTED : walk(v, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  return (value) => walk(value, 0);
}
