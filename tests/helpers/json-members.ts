/**
 * A JSON parser that keeps every object member, duplicates included, in the order written. The
 * differential fuzzer's readers (tests/helpers/readers.ts) build their own views from it: first key
 * wins, Go's case-insensitive struct fields. It follows the JSON grammar of RFC 8259 exactly as
 * `JSON.parse` does (same whitespace, escapes, numbers; raw control characters refused), and is
 * iterative, so a frame nested thousands deep is read, not a stack overflow.
 */

export type JsonTree =
  | { kind: 'object'; members: Array<[string, JsonTree]> }
  | { kind: 'array'; items: JsonTree[] }
  | { kind: 'scalar'; value: JsonScalar };
export type JsonScalar = string | number | boolean | null;

type Container = { tree: Extract<JsonTree, { kind: 'object' | 'array' }>; key?: string };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class Cursor {
  i = 0;
  constructor(readonly s: string) {}

  fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.i}`);
  }

  skipSpace(): void {
    for (let c = this.s[this.i]; c === ' ' || c === '\t' || c === '\n' || c === '\r'; c = this.s[++this.i]);
  }

  expect(c: string): void {
    this.skipSpace();
    if (this.s[this.i] !== c) this.fail(`expected ${JSON.stringify(c)}`);
    this.i++;
  }

  string(): string {
    this.expect('"');
    let out = '';
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined) this.fail('unterminated string');
      if (c === '"') return out;
      if (c < ' ') this.fail('raw control character in string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++] ?? '';
      if (e in ESCAPES) out += ESCAPES[e];
      else if (e === 'u') out += String.fromCharCode(parseInt(this.match(HEX4, 'four hex digits'), 16));
      else this.fail('bad escape');
    }
  }

  match(pattern: RegExp, what: string): string {
    pattern.lastIndex = this.i;
    const m = pattern.exec(this.s);
    if (!m) this.fail(`expected ${what}`);
    this.i += m[0].length;
    return m[0];
  }

  literal(): JsonTree {
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return { kind: 'scalar', value };
      }
    }
    if (this.s[this.i] === '"') return { kind: 'scalar', value: this.string() };
    return { kind: 'scalar', value: Number(this.match(NUMBER, 'a value')) };
  }
}

/** Parses JSON text into a tree that keeps duplicate members; throws SyntaxError where JSON.parse would. */
export function parseMembers(text: string): JsonTree {
  const c = new Cursor(text);
  const stack: Container[] = [];
  let done: JsonTree | undefined;
  for (;;) {
    c.skipSpace();
    // Read one value, or open a container and read its first key.
    const open = text[c.i];
    if (open === '{' || open === '[') {
      c.i++;
      const tree: Container['tree'] = open === '{' ? { kind: 'object', members: [] } : { kind: 'array', items: [] };
      stack.push({ tree });
      c.skipSpace();
      if (text[c.i] === (open === '{' ? '}' : ']')) {
        c.i++;
        done = stack.pop()!.tree;
      } else {
        if (open === '{') readKey(c, stack[stack.length - 1]!);
        continue;
      }
    } else {
      done = c.literal();
    }
    // Attach finished values to their containers, closing every container that ends here.
    for (;;) {
      const top = stack[stack.length - 1];
      if (!top) {
        c.skipSpace();
        if (c.i !== text.length) c.fail('unexpected text after the value');
        return done;
      }
      if (top.tree.kind === 'object') top.tree.members.push([top.key!, done]);
      else top.tree.items.push(done);
      c.skipSpace();
      const next = text[c.i++];
      if (next === ',') {
        if (top.tree.kind === 'object') readKey(c, top);
        break;
      }
      if (next !== (top.tree.kind === 'object' ? '}' : ']')) c.fail('expected , or a closing bracket');
      done = stack.pop()!.tree;
    }
  }
}

function readKey(c: Cursor, top: Container): void {
  c.skipSpace();
  top.key = c.string();
  c.expect(':');
}

/**
 * The tree as a plain value, built without recursion (a frame may nest thousands deep): `makeObject`
 * turns one object's members, values already built, into its value.
 */
export function buildValue(
  root: JsonTree,
  makeObject: (members: Array<[string, unknown]>) => unknown,
  scalar: (value: JsonScalar) => unknown = (v) => v,
): unknown {
  if (root.kind === 'scalar') return scalar(root.value);
  type Frame = { tree: Exclude<JsonTree, { kind: 'scalar' }>; children: JsonTree[]; built: unknown[] };
  const frameOf = (tree: Frame['tree']): Frame => ({
    tree,
    children: tree.kind === 'array' ? tree.items : tree.members.map((m) => m[1]),
    built: [],
  });
  const stack: Frame[] = [frameOf(root)];
  for (;;) {
    const top = stack[stack.length - 1]!;
    const child = top.children[top.built.length];
    if (child) {
      if (child.kind === 'scalar') top.built.push(scalar(child.value));
      else stack.push(frameOf(child));
      continue;
    }
    stack.pop();
    const value = top.tree.kind === 'array' ? top.built : makeObject(top.tree.members.map(([key], i) => [key, top.built[i]]));
    const parent = stack[stack.length - 1];
    if (!parent) return value;
    parent.built.push(value);
  }
}

/** An object from members; a key written twice keeps its first place, and its first or (as JSON.parse) last value. */
export function objectOf(members: Array<[string, unknown]>, keep: 'first' | 'last'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of members) {
    if (keep === 'first' && Object.hasOwn(out, key)) continue;
    // defineProperty, so a "__proto__" key is an own member as JSON.parse makes it.
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The tree as a plain value, keeping the first (or, like JSON.parse, the last) of duplicate members. */
export function treeValue(tree: JsonTree, keep: 'first' | 'last'): unknown {
  return buildValue(tree, (members) => objectOf(members, keep));
}

/** How deep objects and arrays nest in JSON text (0 for a scalar). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '{' || c === '[') {
      max = Math.max(max, ++depth);
    } else if (c === '}' || c === ']') {
      depth--;
    }
  }
  return max;
}
