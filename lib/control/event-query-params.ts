/**
 * The query string of `GET /v1/events` (docs/api.md#get-v1events): what the server reads into an
 * EventQuery, each parameter checked with a sentence naming it and the fix, and what the client
 * (http-control-plane.ts) writes from one. Both sides here, so they cannot drift apart.
 */
import { parseSince } from '../report/time-spec.js';
import { DECISIONS } from './api-protocol.js';
import type { EventQuery } from './event-query.js';

/** Events per page when `limit` is not given, and the most one page may ask for. */
export const EVENTS_DEFAULT_LIMIT = 100;
export const EVENTS_MAX_LIMIT = 1000;

/** What `GET /v1/events` answers: a page, oldest first; `nextCursor` (when there may be older ones) asks for the page before it. */
export interface EventsPage<E> {
  events: E[];
  nextCursor: string | null;
}

/** The parameters that are text, and the query field each fills. */
const TEXT = { tool: 'tool', type: 'type', session: 'sessionId', server: 'serverName' } as const;
const MAX_TEXT = 512;

/** Reads one parameter's value into the query's fields; a string: what is wrong with it. */
type Reader = (value: string) => Partial<EventQuery> | string;

/** A whole number of at least `min`, or undefined. */
function wholeNumber(text: string, min: number): number | undefined {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(n) && n >= min ? n : undefined;
}

const text =
  (name: string, field: (typeof TEXT)[keyof typeof TEXT]): Reader =>
  (value) =>
    value !== '' && value.length <= MAX_TEXT ? { [field]: value } : `${name}: must be 1 to ${MAX_TEXT} characters, or left out`;

const time =
  (name: 'since' | 'until'): Reader =>
  (value) => {
    try {
      return { [name]: parseSince(value, Date.now(), name) };
    } catch (err) {
      return (err as Error).message;
    }
  };

const seq =
  (name: string, field: 'beforeSeq' | 'afterSeq', what: string): Reader =>
  (value) => {
    const n = wholeNumber(value, 0);
    return n === undefined ? `${name}: must be ${what} (a whole number), not "${value}"` : { [field]: n };
  };

/** Every parameter of GET /v1/events (a Map: a name such as `constructor` is no parameter). */
const READERS = new Map<string, Reader>([
  ...Object.entries(TEXT).map(([name, field]): [string, Reader] => [name, text(name, field)]),
  [
    'decision',
    (v) =>
      DECISIONS.includes(v as (typeof DECISIONS)[number])
        ? { decision: v }
        : `decision: must be one of ${DECISIONS.join(', ')}, not "${v}"`,
  ],
  ['since', time('since')],
  ['until', time('until')],
  ['agentKey', () => ({})], // the route's to read: it is checked against the key's agents (agent-scope.ts)
  [
    'limit',
    (v) => {
      const n = wholeNumber(v, 1);
      return n !== undefined && n <= EVENTS_MAX_LIMIT
        ? { limit: n }
        : `limit: must be a whole number from 1 to ${EVENTS_MAX_LIMIT}, not "${v}"; page through more with cursor`;
    },
  ],
  ['cursor', seq('cursor', 'beforeSeq', 'the nextCursor of an earlier answer')],
  ['after', seq('after', 'afterSeq', 'the seq of an event')],
]);

/** The query of a request's parameters (`agentKey` aside); a string: what is wrong, naming the parameter and the fix. */
export function eventQueryOf(params: URLSearchParams): EventQuery | string {
  const q: EventQuery = { limit: EVENTS_DEFAULT_LIMIT };
  for (const name of new Set(params.keys())) {
    const read = READERS.get(name);
    if (!read) return `${name}: not a parameter of GET /v1/events; use ${[...READERS.keys()].join(', ')}`;
    const values = params.getAll(name);
    if (values.length > 1) return `${name}: given ${values.length} times; give it once`;
    const fields = read(values[0]!);
    if (typeof fields === 'string') return fields;
    Object.assign(q, fields);
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
