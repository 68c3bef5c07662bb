/**
 * fast-check generators of host frames for the differential fuzzer (tests/e2e/fuzz-differential.test.ts):
 * `tools/call` requests and notifications and other requests, mutated with the tricks that make
 * readers disagree (docs/policy.md): duplicate keys, case and Unicode-fold variants of keys, unicode
 * escapes, raw `\r` (also a whole second frame hidden between two `\r`), control characters, deep
 * nesting, odd types, bytes that are not UTF-8, and batches mixing all of these. A frame is built
 * as a small tree of raw JSON pieces, so a generator can write JSON that `JSON.stringify` never would.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { decodeSurrogateEscape } from './readers.js';

/** Raw JSON text, or raw bytes (for text that is not UTF-8). */
type Piece = string | number[];
interface Member {
  key: Piece;
  value: Node;
  /** Whitespace before the key, after the colon, and after the value. */
  ws?: string;
  colonWs?: string;
  after?: string;
}
type Node = { obj: Member[] } | { arr: Node[] } | { raw: Piece };

/** One generated frame: its bytes (without the `\n`), shown as a JSON string in counterexamples. */
export class FuzzFrame {
  constructor(readonly bytes: Buffer) {}
  [fc.toStringMethod](): string {
    return JSON.stringify(decodeSurrogateEscape(this.bytes));
  }
}

const lit = (value: unknown): Node => ({ raw: JSON.stringify(value) });
const member = (key: string, value: Node): Member => ({ key: JSON.stringify(key), value });
const obj = (entries: Array<[string, Node]>): Node => ({ obj: entries.map(([k, v]) => member(k, v)) });

/** The fuzz config blocks every call to BLOCKED_TOOL, and calls to PATH_TOOL whose `path` or `file` (PATH_ARGS) matches BLOCKED_PATH. */
export const BLOCKED_TOOL = 'exec';
export const PATH_TOOL = 'read_file';
export const PATH_ARGS = ['path', 'file'];
export const BLOCKED_PATH = '^/etc/';
const toolNames = [BLOCKED_TOOL, BLOCKED_TOOL, PATH_TOOL, PATH_TOOL, 'echo', 'Exec', 'exec ', 'list_files'];
const argKeys = ['path', 'file', 'command', 'key', 'mask', 'token', 'user'];
const argValue = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom<unknown>('/etc/passwd', 'rm -rf /', null, true, [], {}),
);
/** Paths the fuzz config's rules block for one tool (see BLOCKED_PATH), and one they do not. */
const pathValue = fc.constantFrom('/etc/passwd', '/etc/shadow', '/tmp/x', '/tmp/x\u0000/../../etc/shadow');
const argsNode = fc
  .tuple(
    fc.option(pathValue, { nil: undefined }),
    fc.option(pathValue, { nil: undefined }),
    fc.dictionary(fc.constantFrom(...argKeys.slice(2)), argValue, { maxKeys: 2 }),
  )
  .map(([path, file, rest]) =>
    obj([
      ...(path === undefined ? [] : [['path', lit(path)] as [string, Node]]),
      ...(file === undefined ? [] : [['file', lit(file)] as [string, Node]]),
      ...Object.entries(rest).map(([k, v]): [string, Node] => [k, lit(v)]),
    ]),
  );
const idText = fc.oneof(fc.nat(99).map(String), fc.constantFrom('"a"', '"x-1"', '1.0', '1e1', '-0'));

function toolCall(id: string | undefined, name: string, args: Node | undefined): Node {
  const params = obj([['name', lit(name)], ...(args ? [['arguments', args] as [string, Node]] : [])]);
  return obj([
    ['jsonrpc', lit('2.0')],
    ...(id === undefined ? [] : [['id', { raw: id }] as [string, Node]]),
    ['method', lit('tools/call')],
    ['params', params],
  ]);
}

const toolCallFrame = fc
  .record({
    id: fc.option(idText, { nil: undefined, freq: 6 }),
    name: fc.constantFrom(...toolNames),
    args: fc.option(argsNode, { nil: undefined, freq: 6 }),
  })
  .map(({ id, name, args }) => toolCall(id, name, args));
const otherFrame = fc
  .record({
    id: fc.option(idText, { nil: undefined }),
    method: fc.constantFrom('ping', 'tools/list', 'resources/read', 'prompts/get', 'notifications/initialized', 'notifications/cancelled'),
    params: fc.option(argsNode, { nil: undefined }),
  })
  .map(({ id, method, params }) =>
    obj([
      ['jsonrpc', lit('2.0')],
      ...(id === undefined ? [] : [['id', { raw: id }] as [string, Node]]),
      ['method', lit(method)],
      ...(params ? [['params', params] as [string, Node]] : []),
    ]),
  );
const baseFrame = fc.oneof({ arbitrary: toolCallFrame, weight: 3 }, { arbitrary: otherFrame, weight: 1 });

type Level = 'top' | 'params' | 'args';
const levels: Level[] = ['top', 'params', 'args'];
/** Values a duplicate of each key may carry. */
const duplicateValues: Record<string, fc.Arbitrary<Node>> = {
  method: fc.constantFrom('tools/call', 'ping', 'tools/list').map(lit),
  id: idText.map((raw) => ({ raw })),
  jsonrpc: fc.constantFrom('2.0', '1.0').map(lit),
  params: fc.tuple(fc.constantFrom(...toolNames), argsNode).map(([n, a]) =>
    obj([
      ['name', lit(n)],
      ['arguments', a],
    ]),
  ),
  name: fc.constantFrom(...toolNames).map(lit),
  arguments: argsNode,
  // An own member to JSON.parse, the prototype to code that copies keys with `copy[key] = value`.
  ['__proto__']: fc.constant(
    obj([
      ['method', lit('tools/call')],
      ['name', lit(BLOCKED_TOOL)],
      ['path', lit('/etc/shadow')],
      ['token', lit('s3cret')],
    ]),
  ),
};
const keysAt: Record<Level, string[]> = {
  top: ['method', 'id', 'params', 'jsonrpc', '__proto__'],
  params: ['name', 'arguments', '__proto__'],
  args: [...argKeys, '__proto__'],
};
const valueFor = (key: string): fc.Arbitrary<Node> =>
  Object.hasOwn(duplicateValues, key) ? duplicateValues[key]! : (PATH_ARGS.includes(key) ? pathValue : argValue).map(lit);
/** Keys equal to the real ones under Go's case folding (ASCII case, `ſ` for s, the Kelvin sign for k, `İ` and `ı` for i). */
const variants: Record<string, string[]> = {
  method: ['Method', 'METHOD', 'meThod'],
  id: ['ID', 'Id', '\u0130d', '\u0131d'],
  jsonrpc: ['JSONRPC'],
  params: ['Params', 'PARAMS', 'param\u017f'],
  name: ['Name', 'NAME'],
  arguments: ['Arguments', 'ARGUMENTS', 'argument\u017f'],
  path: ['Path', 'PATH'],
  command: ['Command'],
  key: ['\u212aey', 'KEY'],
  mask: ['ma\u017fk', 'mas\u212a', 'MASK'],
  token: ['to\u212aen', 'Token'],
  user: ['u\u017fer', 'USER'],
  file: ['FILE', 'f\u0130le', 'f\u0131le'],
};

/** Ways to spell a key that some reader reads as the same key: Go's case folding, and a C string's end at NUL. */
const foldings: Array<(key: string) => string> = [
  (k) => `${k}\u0000`,
  (k) => `${k}\u0000x`,
  (k) => k.toUpperCase(),
  (k) => k.charAt(0).toUpperCase() + k.slice(1),
  (k) => k.replace('s', '\u017f'),
  (k) => k.replace('k', '\u212a'),
  (k) => k.replace('i', '\u0130'),
  (k) => k.replace('i', '\u0131'),
];
const twinValue = fc.oneof(fc.constantFrom(...toolNames, 'tools/call').map(lit), pathValue.map(lit), argsNode);

type Mutation =
  | { m: 'add'; where: Level; key: string; value: Node; first: boolean }
  | { m: 'twin'; pick: number; fold: number; value: Node; first: boolean }
  | { m: 'rename'; pick: number; fold: number }
  | { m: 'escapeKey'; pick: number; at: number }
  | { m: 'escapeValue'; which: 'method' | 'name'; at: number }
  | { m: 'cr'; pick: number; slot: 'ws' | 'colonWs' | 'after'; text: string }
  | { m: 'smuggle'; inner: Node; first: boolean }
  | { m: 'control'; which: 'method' | 'name'; char: string; raw: boolean }
  | { m: 'deep'; where: Level; depth: number; shape: 'array' | 'object' }
  | { m: 'odd'; which: keyof typeof oddValues; raw: string }
  | { m: 'badUtf8'; which: 'method' | 'name' | 'argValue' | 'argKey'; bytes: number[]; atStart: boolean };

const oddValues = {
  method: ['1', 'null', 'true', '["tools/call"]', '{"x":"tools/call"}', '"TOOLS/CALL"', '"tools/call "', '"tools/Call"'],
  name: ['1', 'null', '["exec"]', '{"name":"exec"}', '""', '"EXEC"'],
  arguments: ['[]', '"x"', 'null', '1', '[{"command":"rm"}]'],
  params: ['[]', '"exec"', 'null', '[{"name":"exec"}]'],
  id: ['null', 'true', '{}', '[1]', '1.5', '""'],
};

const levelKey = (level: Level): fc.Arbitrary<[string, Node]> =>
  fc.oneof(...keysAt[level].map((k) => fc.tuple(fc.constantFrom(k, ...(Object.hasOwn(variants, k) ? variants[k]! : [])), valueFor(k))));
const depth = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(63, 64, 65, 128), fc.integer({ min: 100, max: 20_000 }));
const badBytes = fc.constantFrom<number[]>(
  [0xff],
  [0xfe],
  [0x80],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xc3],
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...levels), fc.boolean())
      .chain(([where, first]) => levelKey(where).map(([key, value]): Mutation => ({ m: 'add', where, key, value, first }))),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      m: fc.constant('twin' as const),
      pick: fc.nat(),
      fold: fc.nat(foldings.length - 1),
      value: twinValue,
      first: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ m: fc.constant('rename' as const), pick: fc.nat(), fold: fc.nat(foldings.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ m: fc.constant('escapeKey' as const), pick: fc.nat(), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      m: fc.constant('escapeValue' as const),
      which: fc.constantFrom('method' as const, 'name' as const),
      at: fc.nat(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      m: fc.constant('cr' as const),
      pick: fc.nat(),
      slot: fc.constantFrom('ws' as const, 'colonWs' as const, 'after' as const),
      text: fc.constantFrom('\r', ' \r', '\r\t', '\r '),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      m: fc.constant('smuggle' as const),
      inner: fc.tuple(idText, argsNode).map(([id, a]) => toolCall(id, BLOCKED_TOOL, a)),
      first: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      m: fc.constant('control' as const),
      which: fc.constantFrom('method' as const, 'name' as const),
      char: fc.constantFrom('\u0000', '\u0001', '\u001b', '\u001f', '\u007f', '\u0085', '\u2028', '\u2029', '\ud800', '\udfff', ' '),
      raw: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      m: fc.constant('deep' as const),
      where: fc.constantFrom(...levels),
      depth,
      shape: fc.constantFrom('array' as const, 'object' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(...(Object.keys(oddValues) as Array<keyof typeof oddValues>))
      .chain((which) => fc.constantFrom(...oddValues[which]).map((raw): Mutation => ({ m: 'odd', which, raw }))),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      m: fc.constant('badUtf8' as const),
      which: fc.constantFrom('method' as const, 'name' as const, 'argValue' as const, 'argKey' as const),
      bytes: badBytes,
      atStart: fc.boolean(),
    }),
  },
);

const keyOf = (m: Member): string | undefined => (typeof m.key === 'string' ? parsedString(m.key) : undefined);
const find = (node: Node | undefined, key: string): Member | undefined =>
  node && 'obj' in node ? node.obj.find((m) => keyOf(m) === key) : undefined;

function objectAt(frame: Node, where: Level): Node | undefined {
  const params = find(frame, 'params')?.value;
  const target = where === 'top' ? frame : where === 'params' ? params : find(params, 'arguments')?.value;
  return target && 'obj' in target ? target : undefined;
}

function allMembers(node: Node): Member[] {
  if ('obj' in node) return node.obj.flatMap((m) => [m, ...allMembers(m.value)]);
  if ('arr' in node) return node.arr.flatMap(allMembers);
  return [];
}

/** The string a literal stands for; undefined for any other literal, or one an earlier mutation made invalid. */
function parsedString(literal: string): string | undefined {
  try {
    const value = JSON.parse(literal) as unknown;
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A string literal with its character `at` (mod its length) written as a \uXXXX escape. */
function escapeAt(piece: Piece, at: number): Piece {
  const s = typeof piece === 'string' ? parsedString(piece) : undefined;
  if (s === undefined || s.length === 0) return piece;
  const k = at % s.length;
  const chars = [...Array(s.length).keys()].map((i) =>
    i === k ? `\\u${s.charCodeAt(i).toString(16).padStart(4, '0')}` : JSON.stringify(s[i]).slice(1, -1),
  );
  return `"${chars.join('')}"`;
}

/** A string literal with `insert` (text or bytes) put right after its opening quote or before its closing one. */
function insertInto(piece: Piece, insert: Piece, atStart: boolean): Piece {
  const bytes = typeof piece === 'string' ? [...Buffer.from(piece, 'utf8')] : piece;
  if (bytes[0] !== 0x22 || bytes[bytes.length - 1] !== 0x22 || bytes.length < 2) return piece;
  const extra = typeof insert === 'string' ? [...Buffer.from(insert, 'utf8')] : insert;
  const at = atStart ? 1 : bytes.length - 1;
  const out = [...bytes.slice(0, at), ...extra, ...bytes.slice(at)];
  const buffer = Buffer.from(out);
  return isUtf8(buffer) ? buffer.toString('utf8') : out;
}

function valueMember(frame: Node, which: 'method' | 'name'): Member | undefined {
  return which === 'method' ? find(frame, 'method') : find(objectAt(frame, 'params'), 'name');
}

function addTo(target: Node | undefined, m: Member, first: boolean): void {
  if (target && 'obj' in target) {
    if (first) target.obj.unshift(m);
    else target.obj.push(m);
  }
}

function nested(depthCount: number, shape: 'array' | 'object'): Node {
  return {
    raw:
      shape === 'array' ? `${'['.repeat(depthCount)}1${']'.repeat(depthCount)}` : `${'{"a":'.repeat(depthCount)}1${'}'.repeat(depthCount)}`,
  };
}

function apply(frame: Node, mu: Mutation): void {
  switch (mu.m) {
    case 'add':
      return addTo(objectAt(frame, mu.where), member(mu.key, mu.value), mu.first);
    case 'twin':
    case 'rename':
      return foldKey(frame, mu);
    case 'escapeKey': {
      const all = allMembers(frame);
      const target = all[mu.pick % Math.max(all.length, 1)];
      if (target) target.key = escapeAt(target.key, mu.at);
      return;
    }
    case 'escapeValue': {
      const target = valueMember(frame, mu.which);
      if (target && 'raw' in target.value) target.value = { raw: escapeAt(target.value.raw, mu.at) };
      return;
    }
    case 'cr': {
      const all = allMembers(frame);
      const target = all[mu.pick % Math.max(all.length, 1)];
      if (target) target[mu.slot] = mu.text;
      return;
    }
    case 'smuggle':
      return addTo(frame, { key: '"x"', value: mu.inner, colonWs: '\r', after: '\r' }, mu.first);
    case 'control': {
      const target = valueMember(frame, mu.which);
      const char = mu.raw ? mu.char : `\\u${mu.char.charCodeAt(0).toString(16).padStart(4, '0')}`;
      if (target && 'raw' in target.value) target.value = { raw: insertInto(target.value.raw, char, false) };
      return;
    }
    case 'deep':
      return addTo(objectAt(frame, mu.where), member('deep', nested(mu.depth, mu.shape)), false);
    case 'odd': {
      const where = mu.which === 'name' || mu.which === 'arguments' ? objectAt(frame, 'params') : frame;
      const target = find(where, mu.which);
      if (target) target.value = { raw: mu.raw };
      else addTo(where, member(mu.which, { raw: mu.raw }), false);
      return;
    }
    case 'badUtf8':
      return spoilUtf8(frame, mu);
  }
}

/** Gives a member a twin whose key some reader reads as the same (`path` and `Path`, `path\u0000`), or renames it so (`Path` alone). */
function foldKey(frame: Node, mu: Extract<Mutation, { m: 'twin' | 'rename' }>): void {
  const owners = objects(frame);
  const owner = owners[mu.pick % Math.max(owners.length, 1)];
  if (!owner || owner.obj.length === 0) return;
  const target = owner.obj[Math.floor(mu.pick / Math.max(owners.length, 1)) % owner.obj.length]!;
  const key = keyOf(target);
  const folded = key === undefined ? undefined : foldings[mu.fold]!(key);
  if (folded === undefined || folded === key) return;
  if (mu.m === 'rename') target.key = JSON.stringify(folded);
  else addTo(owner, member(folded, mu.value), mu.first);
}

/** Every object in a frame, outermost first. */
function objects(node: Node): Array<Extract<Node, { obj: Member[] }>> {
  if ('obj' in node) return [node, ...node.obj.flatMap((m) => objects(m.value))];
  if ('arr' in node) return node.arr.flatMap(objects);
  return [];
}

function spoilUtf8(frame: Node, mu: Extract<Mutation, { m: 'badUtf8' }>): void {
  if (mu.which === 'method' || mu.which === 'name') {
    const target = valueMember(frame, mu.which);
    if (target && 'raw' in target.value) target.value = { raw: insertInto(target.value.raw, mu.bytes, mu.atStart) };
    return;
  }
  const args = objectAt(frame, 'args');
  const target = args && 'obj' in args ? args.obj[0] : undefined;
  if (!target) return;
  if (mu.which === 'argKey') target.key = insertInto(target.key, mu.bytes, mu.atStart);
  else if ('raw' in target.value) target.value = { raw: insertInto(target.value.raw, mu.bytes, mu.atStart) };
}

function pieceBytes(p: Piece): Buffer {
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p);
}

function serialize(node: Node, out: Buffer[]): void {
  if ('raw' in node) {
    out.push(pieceBytes(node.raw));
  } else if ('arr' in node) {
    out.push(Buffer.from('['));
    node.arr.forEach((n, i) => {
      if (i > 0) out.push(Buffer.from(','));
      serialize(n, out);
    });
    out.push(Buffer.from(']'));
  } else {
    out.push(Buffer.from('{'));
    node.obj.forEach((m, i) => {
      out.push(Buffer.from(`${i > 0 ? ',' : ''}${m.ws ?? ''}`), pieceBytes(m.key), Buffer.from(`:${m.colonWs ?? ''}`));
      serialize(m.value, out);
      out.push(Buffer.from(m.after ?? ''));
    });
    out.push(Buffer.from('}'));
  }
}

/** Half the messages are left plain, so that calls also get through and their events can be compared. */
const mutations = fc.oneof(
  { arbitrary: fc.constant<Mutation[]>([]), weight: 1 },
  { arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }), weight: 1 },
);
const mutatedMessage = fc.tuple(baseFrame, mutations).map(([base, list]) => {
  const frame = structuredClone(base); // generated values are shared while shrinking: never mutate them
  for (const mu of structuredClone(list)) apply(frame, mu);
  return frame;
});
const junk = fc.constantFrom('1', '"x"', 'null', '[]', '{}').map((raw): Node => ({ raw }));
const batch = fc
  .array(fc.oneof({ arbitrary: mutatedMessage, weight: 4 }, { arbitrary: junk, weight: 1 }), { minLength: 1, maxLength: 4 })
  .map((arr): Node => ({ arr }));
/** What may come after the frame, before its `\n` (only a lone `\r` there is a plain CRLF). */
const tail = fc.constantFrom('', '', '', '\r', ' ', '\r ', '\t\r');

/** One host frame (without its `\n`). */
export const hostFrame: fc.Arbitrary<FuzzFrame> = fc
  .tuple(fc.oneof({ arbitrary: mutatedMessage, weight: 5 }, { arbitrary: batch, weight: 1 }), tail)
  .map(([node, end]) => {
    const out: Buffer[] = [];
    serialize(node, out);
    out.push(Buffer.from(end));
    return new FuzzFrame(Buffer.concat(out));
  });
