/** `visibleText` and `stderrLine` (lib/report/visible-text.ts): what reaches a terminal from hosts and upstreams. */
import { describe, expect, it } from 'vitest';
import { stderrLine, visibleText } from '../../lib/report/visible-text.js';

describe('visibleText', () => {
  it('writes C0, DEL and C1 controls as escapes', () => {
    expect(visibleText('a\u001b[2Jb\u0007c\u007fd\u009be\u0000')).toBe('a\\x1b[2Jb\\x07c\\x7fd\\x9be\\x00');
    expect(visibleText('one\ntwo\tthree\r')).toBe('one\\ntwo\\tthree\\r');
  });

  it('writes bidi controls, zero-width characters, separators and tag characters as \\u escapes', () => {
    expect(visibleText('invoice-\u202egnp.exe')).toBe('invoice-\\u202egnp.exe');
    for (const c of ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u2066', '\u2067', '\u2068', '\u2069']) {
      expect(visibleText(c)).toBe(`\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
    }
    expect(visibleText('a\u200bb\ufeffc\u2028d\u2029')).toBe('a\\u200bb\\ufeffc\\u2028d\\u2029');
    expect(visibleText('tag\u{e0041}')).toBe('tag\\u{e0041}');
  });

  it('leaves printable text alone, backslashes, accents and emoji included', () => {
    const text = 'C:\\temp\\café — 日本語 🚀 "quoted"';
    expect(visibleText(text)).toBe(text);
  });
});

describe('stderrLine', () => {
  it('prefixes the message, keeps its lines, and indents every continuation line', () => {
    expect(stderrLine('ratri', 'cannot start\n  fix: check "upstream.command"')).toBe(
      'ratri: cannot start\n  fix: check "upstream.command"\n',
    );
    // A newline inside a quoted value cannot make a line that looks like ratri's own.
    expect(stderrLine('ratri', 'tool said: boom\nratri: approved apr_1 \u001b[2J')).toBe(
      'ratri: tool said: boom\n  ratri: approved apr_1 \\x1b[2J\n',
    );
  });
});
