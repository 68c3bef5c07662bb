/**
 * Text edits on a host's config that change one entry's `command` and `args` and nothing else: the
 * new values are written in the style of the old ones (one line or one item per line, the same
 * indentation), so every other byte stays as it was (docs/hosts.md#ratri-init).
 */
import type { JsonMember, JsonNode, Span } from './json-spans.js';
import { memberOf } from './json-spans.js';

export interface TextEdit extends Span {
  text: string;
}

/** Applies edits that do not overlap, from the last to the first. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** The white space right before `at`, after the last `,`, `{` or `[` (a member's or item's indentation). */
function leadingSpace(text: string, at: number): string {
  let i = at;
  while (i > 0 && /\s/.test(text[i - 1]!)) i--;
  return text.slice(i, at);
}

/** Writes `items` as a JSON array laid out like `old` (or on one line when there is no old one). */
export function arrayLike(text: string, old: JsonNode | undefined, items: string[]): string {
  const quoted = items.map((s) => JSON.stringify(s));
  if (old?.kind !== 'array' || old.items.length === 0) return `[${quoted.join(', ')}]`;
  const body = text.slice(old.start, old.end);
  if (body.includes('\n')) {
    const itemIndent = leadingSpace(text, old.items[0]!.start);
    const closeIndent = leadingSpace(text, old.end - 1);
    return `[${quoted.map((q) => `${itemIndent}${q}`).join(',')}${closeIndent}]`;
  }
  const between = old.items.length > 1 ? text.slice(old.items[0]!.end, old.items[1]!.start) : ', ';
  const pad = text[old.start + 1] === ' ' ? ' ' : '';
  return `[${pad}${quoted.join(between.trim() === ',' ? between : ', ')}${pad}]`;
}

/** Edits that give the entry object this `command` and `args`, keeping its other members and its layout. */
export function replaceCommand(text: string, entry: JsonNode, command: string, args: string[]): TextEdit[] {
  const commandMember = memberOf(entry, 'command') as JsonMember;
  const argsMember = memberOf(entry, 'args');
  const edits: TextEdit[] = [{ ...span(commandMember.value), text: JSON.stringify(command) }];
  const array = arrayLike(text, argsMember?.value, args);
  if (argsMember) {
    edits.push({ ...span(argsMember.value), text: array });
  } else {
    const indent = leadingSpace(text, commandMember.keySpan.start);
    const colon = text.slice(commandMember.keySpan.end, commandMember.value.start);
    edits.push({ start: commandMember.value.end, end: commandMember.value.end, text: `,${indent || ' '}"args"${colon}${array}` });
  }
  return edits;
}

function span(node: JsonNode): Span {
  return { start: node.start, end: node.end };
}

/** The indentation of a JSON file (two spaces, four, a tab) and whether it ends with a newline. */
export function layoutOf(text: string): { indent: string; newline: boolean } {
  const m = /\n([ \t]+)\S/.exec(text);
  return { indent: m ? m[1]! : '  ', newline: text.endsWith('\n') };
}

/** A value serialized in a file's layout. */
export function serializeLike(value: unknown, layout: { indent: string; newline: boolean }): string {
  return JSON.stringify(value, null, layout.indent) + (layout.newline ? '\n' : '');
}
