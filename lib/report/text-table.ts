/**
 * Plain-text tables for the terminal: aligned columns, long cells cut, colour only when asked (a TTY).
 * Cells are made visible (`visible-text.ts`): their values come from hosts and upstreams.
 */
import { visibleText } from './visible-text.js';

export interface Column<Row> {
  title: string;
  value(row: Row): string;
  /** Cells longer than this are cut with "…". */
  max?: number;
  /** An ANSI colour for the cell, or undefined for none (used only with colour on). */
  colour?(row: Row): Colour | undefined;
}

export type Colour = 'red' | 'green' | 'yellow' | 'dim' | 'bold';

const ANSI: Record<Colour, [string, string]> = {
  red: ['\u001b[31m', '\u001b[39m'],
  green: ['\u001b[32m', '\u001b[39m'],
  yellow: ['\u001b[33m', '\u001b[39m'],
  dim: ['\u001b[2m', '\u001b[22m'],
  bold: ['\u001b[1m', '\u001b[22m'],
};

export function paint(text: string, colour: Colour | undefined, on: boolean): string {
  if (!on || !colour) return text;
  const [open, close] = ANSI[colour];
  return `${open}${text}${close}`;
}

function cut(text: string, max: number | undefined): string {
  const oneLine = visibleText(text.replace(/[ \t\n]+/g, ' '));
  return max !== undefined && oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** Renders rows under a header line; the last column is not padded. */
export function renderTable<Row>(rows: Row[], columns: Column<Row>[], colour: boolean): string {
  const cells = rows.map((row) => columns.map((c) => cut(c.value(row), c.max)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => r[i]!.length)));
  const line = (texts: string[], paintCell: (text: string, i: number) => string): string =>
    texts
      .map((t, i) => paintCell(i === texts.length - 1 ? t : t.padEnd(widths[i]!), i))
      .join('  ')
      .trimEnd();
  const header = line(
    columns.map((c) => c.title),
    (t) => paint(t, 'bold', colour),
  );
  const body = cells.map((texts, r) => line(texts, (t, i) => paint(t, columns[i]!.colour?.(rows[r]!), colour)));
  return [header, ...body].join('\n');
}
