/**
 * What `ratri init` can do with one server entry of a host's config: wrap it (a stdio server),
 * recognise it as already wrapped, or leave it alone and say why (docs/hosts.md#ratri-init).
 */
import type { UpstreamConfig } from '../config/types.js';
import { ratriLaunched } from '../node/ratri-launch.js';
import { type JsonNode, plainValue } from './json-spans.js';

export type EntryVerdict =
  | { kind: 'stdio'; upstream: UpstreamConfig }
  | { kind: 'wrapped'; config?: string; server?: string }
  | { kind: 'leave'; why: string };

const HTTP_TYPES = new Set(['http', 'sse', 'streamable-http', 'streamableHttp', 'streamable_http', 'ws', 'websocket']);

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Judges one entry (`node` is its value in the server map). */
export function judgeEntry(node: JsonNode): EntryVerdict {
  const entry = plainValue(node);
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return { kind: 'leave', why: 'not an object' };
  const e = entry as Record<string, unknown>;
  const url = e.url ?? e.serverUrl;
  if (url !== undefined || (typeof e.type === 'string' && HTTP_TYPES.has(e.type))) {
    return {
      kind: 'leave',
      why: `an HTTP/SSE server${typeof url === 'string' ? ` (${url})` : ''}: the host connects to it by URL, there is no process to start, and ratri init wraps stdio servers only`,
    };
  }
  if (e.type !== undefined && e.type !== 'stdio') return { kind: 'leave', why: `type ${JSON.stringify(e.type)} is not "stdio"` };
  if (typeof e.command !== 'string' || e.command === '') return { kind: 'leave', why: 'no "command" to start' };
  const args = e.args ?? [];
  if (!isStrings(args)) return { kind: 'leave', why: '"args" is not a list of strings' };
  const launched = ratriLaunched(e.command, args);
  if (launched) return { kind: 'wrapped', ...launched };
  const variable = [e.command, ...args].find((w) => w.includes('${'));
  if (variable !== undefined) {
    return {
      kind: 'leave',
      why: `"${variable}" has a ${'${…}'} variable only the host expands; in ratri's config it would stay unexpanded (wrap it by hand: docs/hosts.md)`,
    };
  }
  return { kind: 'stdio', upstream: { command: e.command, ...(e.args !== undefined ? { args } : {}) } };
}
