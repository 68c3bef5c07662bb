/**
 * A unified diff of two texts, line by line, for `ratri init --dry-run`: the lines that differ with
 * a little context, as `diff -u` shows them (docs/hosts.md#ratri-init).
 */

const CONTEXT = 2;
/** Above this many line pairs between the first and the last difference, the middle is shown whole. */
const MAX_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; line: string };

/** The edit script between two line lists (longest common subsequence). */
function script(a: string[], b: string[]): Op[] {
  if (a.length * b.length > MAX_CELLS)
    return [...a.map((line) => ({ kind: '-' as const, line })), ...b.map((line) => ({ kind: '+' as const, line }))];
  const lcs: Uint32Array[] = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: ' ', line: a[i++]! }), j++;
    else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ kind: '-', line: a[i++]! });
    else ops.push({ kind: '+', line: b[j++]! });
  }
  return ops;
}

/** `--- name` / `+++ name` and the hunks; empty when the texts are equal. `before` undefined: a new file. */
export function unifiedDiff(name: string, before: string | undefined, after: string): string {
  if (before === after) return '';
  const a = before === undefined || before === '' ? [] : before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const ops = script(a.slice(head, a.length - tail), b.slice(head, b.length - tail));
  const lines = [`--- ${before === undefined ? '/dev/null' : name}`, `+++ ${name}`];
  // One hunk from the first to the last difference, with context around each run of changes.
  const start = Math.max(0, head - CONTEXT);
  lines.push(`@@ from line ${start + 1} @@`);
  for (let k = start; k < head; k++) lines.push(` ${a[k]}`);
  let unchanged: string[] = [];
  let line = head; // the old file's line number (0-based) of the next op
  for (const op of ops) {
    if (op.kind === ' ') {
      unchanged.push(op.line);
      line++;
      continue;
    }
    if (unchanged.length > 2 * CONTEXT) {
      lines.push(
        ...unchanged.slice(0, CONTEXT).map((l) => ` ${l}`),
        `@@ from line ${line - CONTEXT + 1} @@`,
        ...unchanged.slice(-CONTEXT).map((l) => ` ${l}`),
      );
    } else lines.push(...unchanged.map((l) => ` ${l}`));
    unchanged = [];
    lines.push(`${op.kind}${op.line}`);
    if (op.kind === '-') line++;
  }
  lines.push(...unchanged.map((l) => ` ${l}`));
  for (let k = a.length - tail; k < Math.min(a.length, a.length - tail + CONTEXT); k++) lines.push(` ${a[k]}`);
  return lines.join('\n');
}
