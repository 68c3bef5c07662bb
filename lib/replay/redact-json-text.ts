/**
 * Redacts JSON text in place: the value of every member whose key is one of `redactKeys` becomes
 * "[REDACTED]", and every other byte stays as it was (spacing, escapes, number spelling, key order,
 * a key given twice). A recording redacted so still replays as the session did: the proxy reads the
 * redacted frame as it read the original, duplicate keys and all. Keys are compared decoded
 * (`"\u0074oken"` is `token`) and case-folded as Go compares them (`foldKey`), at any depth.
 */
import { skipString } from '../jsonrpc/json-scan.js';
import { foldKey } from '../jsonrpc/strict-scan.js';
import { REDACTED } from '../telemetry/redact.js';

/** Index of the first character at or after `i` that is not JSON white space. */
function skipSpace(text: string, i: number): number {
  while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  return i;
}

/** Index just past the value that starts at `start` (a string, an object, an array or a scalar). */
function skipValue(text: string, start: number): number {
  const c = text[start];
  if (c === '"') return skipString(text, start);
  if (c !== '{' && c !== '[') {
    let i = start;
    while (i < text.length && !',}] \t\n\r'.includes(text[i]!)) i++;
    return i;
  }
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const d = text[i];
    if (d === '"') i = skipString(text, i) - 1;
    else if (d === '{' || d === '[') depth++;
    else if ((d === '}' || d === ']') && --depth === 0) return i + 1;
  }
  return text.length;
}

/**
 * `text` (already accepted by JSON.parse) with the values of `redactKeys` replaced; `changed` says
 * whether any was. One pass, no recursion, so nesting of any depth costs no stack.
 */
export function redactJsonText(text: string, redactKeys: string[]): { text: string; changed: boolean } {
  const keys = new Set(redactKeys.map(foldKey));
  const inObject: boolean[] = [];
  let out = '';
  let copied = 0;
  let atKey = false;
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === '"' && atKey && inObject.at(-1) === true) {
      const end = skipString(text, i);
      const key = JSON.parse(text.slice(i, end)) as string;
      const valueStart = skipSpace(text, skipSpace(text, end) + 1); // past the colon
      atKey = false;
      if (text[skipSpace(text, end)] === ':' && keys.has(foldKey(key))) {
        const valueEnd = skipValue(text, valueStart);
        out += `${text.slice(copied, valueStart)}${JSON.stringify(REDACTED)}`;
        copied = i = valueEnd;
      } else {
        i = valueStart;
      }
      continue;
    }
    if (c === '"') i = skipString(text, i);
    else {
      // Only structure moves between keys and values; white space, colons and scalars change nothing.
      if (c === '{' || c === '[') inObject.push(c === '{');
      else if (c === '}' || c === ']') inObject.pop();
      if (c === '{' || c === '[' || c === '}' || c === ']') atKey = c === '{';
      else if (c === ',') atKey = inObject.at(-1) === true;
      i++;
    }
  }
  return copied === 0 ? { text, changed: false } : { text: out + text.slice(copied), changed: true };
}
