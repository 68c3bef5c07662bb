/**
 * A canonical JSON text of a value, for comparing what two readers read (tests/helpers/readers.ts):
 * object keys sorted, optionally folded as Go folds struct field names, written without recursion
 * because a fuzzed frame may nest thousands deep (JSON.stringify overflows the stack near 5000).
 */

/** Literal text on the work stack, as opposed to a value still to be written. */
class Text {
  constructor(readonly text: string) {}
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * `foldKey`, when given, replaces each object key; two keys of one object that fold alike make that
 * object `"fold-collision"`, which no folded reading of a real object equals.
 */
export function canonicalText(root: unknown, foldKey?: (key: string) => string): string {
  const out: string[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item instanceof Text) {
      out.push(item.text);
    } else if (Array.isArray(item)) {
      stack.push(new Text(']'));
      for (let i = item.length - 1; i >= 0; i--) stack.push(item[i], new Text(i > 0 ? ',' : ''));
      stack.push(new Text('['));
    } else if (isObject(item)) {
      pushObject(item, stack, foldKey);
    } else {
      out.push(item === undefined ? 'undefined' : JSON.stringify(item));
    }
  }
  return out.join('');
}

function pushObject(value: Record<string, unknown>, stack: unknown[], foldKey?: (key: string) => string): void {
  const entries = Object.keys(value).map((k): [string, unknown] => [foldKey ? foldKey(k) : k, value[k]]);
  if (new Set(entries.map(([k]) => k)).size !== entries.length) {
    stack.push(new Text('"fold-collision"'));
    return;
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  stack.push(new Text('}'));
  for (let i = entries.length - 1; i >= 0; i--) {
    const [key, v] = entries[i]!;
    stack.push(v, new Text(`${i > 0 ? ',' : ''}${JSON.stringify(key)}:`));
  }
  stack.push(new Text('{'));
}
