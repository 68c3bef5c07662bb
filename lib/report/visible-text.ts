/**
 * Text from a host or an upstream (tool names, arguments, reasons, error messages) can carry
 * control characters, terminal escape sequences and bidi controls: printed raw, `\x1b]…` rewrites
 * the terminal and U+202E shows `invoice-\u202egnp.exe` as `invoice-exe.png`. Every such value is
 * printed through `visibleText`, which writes those characters as escapes instead (docs/events.md,
 * "Terminal output"). The dashboard's script runs the same function (its source is sent as is).
 */

/**
 * `text` with every control (Unicode Cc: C0, DEL, C1) and format character (Cf: bidi controls,
 * zero-width characters, BOM, tag characters…) and U+2028/U+2029 written as an escape: `\n`, `\t`,
 * `\r`, `\x1b`, `\u202e`, `\u{e0041}`. Everything else, backslashes included, is left as it is.
 * Self-contained on purpose: lib/dashboard/client.ts embeds its source.
 */
export function visibleText(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    const n = c.codePointAt(0) ?? 0;
    const hex = n.toString(16);
    if (n < 0x100) return `\\x${hex.padStart(2, '0')}`;
    return n > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
  });
}

/**
 * One message for stderr, `prefix: message` and a newline. The message's own lines stay lines, each
 * made visible; a continuation line is always indented, so a line that starts with `ratri:` was
 * written by ratri, never forged by a newline inside a value.
 */
export function stderrLine(prefix: string, message: string): string {
  const lines = message.split('\n').map((line, i) => {
    const shown = visibleText(line);
    return i === 0 || shown.startsWith(' ') ? shown : `  ${shown}`;
  });
  return `${prefix}: ${lines.join('\n')}\n`;
}
