/**
 * A JSON reader that keeps where every value is in the text, so `ratri init` can replace one entry's
 * `command` and `args` and leave every other byte of a host's config as it was (docs/hosts.md#ratri-init).
 * It also reads JSONC (comments and trailing commas, as in VS Code's settings.json) so such a file
 * can be listed, and says that it has comments, so it is never rewritten.
 */

export interface Span {
  start: number;
  end: number;
}

export type JsonNode =
  | (Span & { kind: 'object'; members: JsonMember[] })
  | (Span & { kind: 'array'; items: JsonNode[] })
  | (Span & { kind: 'scalar'; value: string | number | boolean | null });

export interface JsonMember {
  key: string;
  keySpan: Span;
  value: JsonNode;
}

export interface JsonDocument {
  root: JsonNode;
  /** True when the text has comments (then it is JSONC, and ratri does not rewrite it). */
  hasComments: boolean;
  /** True when an object or array ends with a comma (JSONC too). */
  hasTrailingCommas: boolean;
}

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
}

class Reader {
  pos = 0;
  hasComments = false;
  hasTrailingCommas = false;

  constructor(readonly text: string) {}

  fail(what: string): never {
    const before = this.text.slice(0, this.pos);
    const line = before.split('\n').length;
    throw new JsonSyntaxError(`${what} at line ${line}, column ${this.pos - before.lastIndexOf('\n')}`);
  }

  skip(): void {
    const t = this.text;
    for (;;) {
      const c = t[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\ufeff') this.pos++;
      else if (c === '/' && t[this.pos + 1] === '/') {
        this.hasComments = true;
        const nl = t.indexOf('\n', this.pos);
        this.pos = nl === -1 ? t.length : nl;
      } else if (c === '/' && t[this.pos + 1] === '*') {
        this.hasComments = true;
        const close = t.indexOf('*/', this.pos + 2);
        if (close === -1) this.fail('unclosed comment');
        this.pos = close + 2;
      } else return;
    }
  }

  string(): string {
    const start = this.pos;
    let i = start + 1;
    for (;;) {
      const c = this.text[i];
      if (c === undefined || c === '\n') this.fail('unterminated string');
      if (c === '\\') i += 2;
      else if (c === '"') break;
      else i++;
    }
    this.pos = i + 1;
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  value(): JsonNode {
    this.skip();
    const start = this.pos;
    const c = this.text[start];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return { kind: 'scalar', value: this.string(), start, end: this.pos };
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(this.text.slice(start, start + 400));
    if (!m) this.fail('expected a JSON value');
    this.pos += m[0].length;
    return { kind: 'scalar', value: JSON.parse(m[0]) as number | boolean | null, start, end: this.pos };
  }

  /** Reads `open … close` with `item()` between commas; allows a trailing comma, as JSONC does. */
  list(close: string, item: () => void): void {
    this.pos++;
    this.skip();
    if (this.text[this.pos] === close) return void this.pos++;
    for (;;) {
      item();
      this.skip();
      const c = this.text[this.pos];
      if (c === close) return void this.pos++;
      if (c !== ',') this.fail(`expected "," or "${close}"`);
      this.pos++;
      this.skip();
      if (this.text[this.pos] === close) {
        this.hasTrailingCommas = true;
        return void this.pos++;
      }
    }
  }

  object(): JsonNode {
    const start = this.pos;
    const members: JsonMember[] = [];
    this.list('}', () => {
      this.skip();
      if (this.text[this.pos] !== '"') this.fail('expected a key');
      const keyStart = this.pos;
      const key = this.string();
      const keySpan = { start: keyStart, end: this.pos };
      this.skip();
      if (this.text[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      members.push({ key, keySpan, value: this.value() });
    });
    return { kind: 'object', members, start, end: this.pos };
  }

  array(): JsonNode {
    const start = this.pos;
    const items: JsonNode[] = [];
    this.list(']', () => items.push(this.value()));
    return { kind: 'array', items, start, end: this.pos };
  }
}

/** Reads JSON (or JSONC) text; throws JsonSyntaxError with the line and column. */
export function readJsonDocument(text: string): JsonDocument {
  const reader = new Reader(text);
  const root = reader.value();
  reader.skip();
  if (reader.pos !== text.length) reader.fail('unexpected text after the JSON value');
  return { root, hasComments: reader.hasComments, hasTrailingCommas: reader.hasTrailingCommas };
}

/** The plain value of a node (the last of duplicate keys wins, as in JSON.parse). */
export function plainValue(node: JsonNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'array') return node.items.map(plainValue);
  const out: Record<string, unknown> = {};
  for (const m of node.members) {
    Object.defineProperty(out, m.key, { value: plainValue(m.value), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The member `key` of an object node (the last one, as JSON.parse reads it). */
export function memberOf(node: JsonNode | undefined, key: string): JsonMember | undefined {
  if (node?.kind !== 'object') return undefined;
  for (let i = node.members.length - 1; i >= 0; i--) if (node.members[i]!.key === key) return node.members[i];
  return undefined;
}

/** The node at a path of keys, or undefined. */
export function nodeAt(root: JsonNode, path: string[]): JsonNode | undefined {
  let node: JsonNode | undefined = root;
  for (const key of path) node = memberOf(node, key)?.value;
  return node;
}
