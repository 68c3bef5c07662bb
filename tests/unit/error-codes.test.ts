/**
 * Every JSON-RPC error code ratri writes lives in lib/jsonrpc/errors.ts: no code literal anywhere
 * else in lib/ (comments and message texts may name a code; code may not write one), each code in
 * a documented range, and docs/errors.md listing each of them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodeRange, ProxyErrorCode } from '../../lib/jsonrpc/errors.js';

const root = join(import.meta.dirname, '..', '..');
const lib = join(root, 'lib');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/**
 * The source with comments and the text of string literals blanked out (a template's `${…}` stays
 * code), so what is left is what runs. Regular-expression literals are not recognised: none in lib/
 * holds a quote or a comment opener that would confuse this.
 */
function codeOnly(source: string): string {
  let out = '';
  const templates: number[] = []; // brace depth at which each open `${` of a template returns to its text
  let depth = 0;
  let i = 0;
  const skipTo = (end: string, escapes: boolean): void => {
    while (i < source.length && !source.startsWith(end, i)) i += escapes && source[i] === '\\' ? 2 : 1;
    i += end.length;
  };
  const templateText = (): void => {
    while (i < source.length && source[i] !== '`' && !source.startsWith('${', i)) i += source[i] === '\\' ? 2 : 1;
    if (source.startsWith('${', i)) {
      templates.push(depth);
      depth++;
      out += ' ';
      i += 2;
    } else i++;
  };
  while (i < source.length) {
    const c = source[i]!;
    if (source.startsWith('//', i)) skipTo('\n', false);
    else if (source.startsWith('/*', i)) skipTo('*/', false);
    else if (c === "'" || c === '"') {
      i++;
      skipTo(c, true);
      out += '""';
    } else if (c === '`') {
      i++;
      templateText();
    } else if (c === '}' && templates.length > 0 && templates.at(-1) === depth - 1) {
      templates.pop();
      depth--;
      i++;
      templateText();
    } else {
      if (c === '{') depth++;
      if (c === '}') depth--;
      out += c;
      i++;
    }
  }
  return out;
}

const CODE_LITERAL = /(?<![\w.])-\s*32[0-7]\d\d\b/g;

describe('JSON-RPC error codes', () => {
  it('finds a code literal in code, and none in comments or message texts (the check itself)', () => {
    const source = ['// -32001', "/* -32002 */ const a = 'x -32003';", 'const b = `(-32004) $', '{f(-32005)} y`;'].join('\n');
    expect(codeOnly(source.replace('$\n{', '${')).match(CODE_LITERAL)).toEqual(['-32005']);
    expect(codeOnly('if (e.code === -32603) return;').match(CODE_LITERAL)).toEqual(['-32603']);
  });

  it('has no code literal in lib/ outside lib/jsonrpc/errors.ts', () => {
    const found = tsFiles(lib)
      .filter((f) => relative(root, f) !== join('lib', 'jsonrpc', 'errors.ts'))
      .flatMap((f) => (codeOnly(readFileSync(f, 'utf8')).match(CODE_LITERAL) ?? []).map((m) => `${relative(root, f)}: ${m}`));
    expect(found).toEqual([]);
  });

  it('takes every code from a documented range, and docs/errors.md lists each', () => {
    const ranges = [...ErrorCodeRange.predefined, ...ErrorCodeRange.serverError];
    const docs = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
    for (const code of Object.values(ProxyErrorCode)) {
      expect(
        ranges.some(([from, to]) => code >= from && code <= to),
        `${code} in a range`,
      ).toBe(true);
      expect(docs, `${code} in docs/errors.md`).toContain(`| \`${code}\` |`);
    }
    expect(new Set(Object.values(ProxyErrorCode)).size).toBe(Object.values(ProxyErrorCode).length);
  });
});
