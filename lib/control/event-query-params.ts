/**
 * The query string of `GET /v1/events` (docs/api.md#get-v1events): what the server reads into an
 * EventQuery, each parameter checked with a sentence naming it and the fix, and what the client
 * (http-control-plane.ts) writes from one. Both sides here, so they cannot drift apart.
 */
import { parseSince } from '../report/time-spec.js';
import type { EventQuery } from './event-query.js';

/** Events per page when `limit` is not given, and the most one page may ask for. */
export const EVENTS_DEFAULT_LIMIT = 100;
export const EVENTS_MAX_LIMIT = 1000;

/** What `GET /v1/events` answers: a page, oldest first; `nextCursor` (when there may be older ones) asks for the page before it. */
export interface EventsPage<E> {
  events: E[];
  nextCursor: string | null;
}

const DECISIONS = ['allow', 'warn', 'block', 'require_approval'];
/** The parameters and the query field each fills (agentKey is the route's: it is the key's scope). */
const TEXT = { tool: 'tool', type: 'type', session: 'sessionId', server: 'serverName' } as const;
const KNOWN = [...Object.keys(TEXT), 'decision', 'since', 'until', 'agentKey', 'limit', 'cursor', 'after'];
const MAX_TEXT = 512;

/** A whole number of at least `min`, or undefined. */
function wholeNumber(text: string, min: number): number | undefined {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(n) && n >= min ? n : undefined;
}

/** The query of a request's parameters (`agentKey` aside); a string: what is wrong, naming the parameter and the fix. */
export function eventQueryOf(params: URLSearchParams): EventQuery | string {
  for (const name of new Set(params.keys())) {
    if (!KNOWN.includes(name)) return `${name}: not a parameter of GET /v1/events; use ${KNOWN.join(', ')}`;
    if (params.getAll(name).length > 1) return `${name}: given ${params.getAll(name).length} times; give it once`;
  }
  const q: EventQuery = {};
  for (const [name, field] of Object.entries(TEXT)) {
    const value = params.get(name);
    if (value === null) continue;
    if (value === '' || value.length > MAX_TEXT) return `${name}: must be 1 to ${MAX_TEXT} characters, or left out`;
    q[field] = value;
  }
  const decision = params.get('decision');
  if (decision !== null && !DECISIONS.includes(decision)) return `decision: must be one of ${DECISIONS.join(', ')}, not "${decision}"`;
  if (decision !== null) q.decision = decision;
  for (const name of ['since', 'until'] as const) {
    const value = params.get(name);
    if (value === null) continue;
    try {
      q[name] = parseSince(value, Date.now(), name);
    } catch (err) {
      return (err as Error).message;
    }
  }
  const limit = params.get('limit');
  q.limit = limit === null ? EVENTS_DEFAULT_LIMIT : wholeNumber(limit, 1);
  if (q.limit === undefined || q.limit > EVENTS_MAX_LIMIT) {
    return `limit: must be a whole number from 1 to ${EVENTS_MAX_LIMIT}, not "${limit}"; page through more with cursor`;
  }
  for (const [name, field] of [
    ['cursor', 'beforeSeq'],
    ['after', 'afterSeq'],
  ] as const) {
    const value = params.get(name);
    if (value === null) continue;
    const seq = wholeNumber(value, 0);
    if (seq === undefined) {
      return `${name}: must be ${name === 'cursor' ? 'the nextCursor of an earlier answer' : 'the seq of an event'} (a whole number), not "${value}"`;
    }
    q[field] = seq;
  }
  return q;
}

/** The parameters of `q`; of its `agents`, one is sent as `agentKey` (more are not: a key reads its own agents' anyway). */
export function eventQueryParams(q: EventQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (q.agents?.length === 1) params.set('agentKey', q.agents[0]!);
  for (const [name, field] of Object.entries(TEXT)) if (q[field]) params.set(name, q[field]);
  const rest = { decision: q.decision, since: q.since, until: q.until, limit: q.limit, cursor: q.beforeSeq, after: q.afterSeq };
  for (const [name, value] of Object.entries(rest)) if (value !== undefined) params.set(name, String(value));
  return params;
}

/** The cursor of the page before `events` (the newest `limit` matching ones): null when that page may be empty. */
export function nextCursorOf(events: { seq: number }[], limit: number): string | null {
  return events.length === limit && events.length > 0 ? String(events[0]!.seq) : null;
}
