/**
 * The differential fuzzer (docs/golden-files.md, "The differential fuzzer"; the rules it checks are in
 * docs/policy.md, "One frame, one reading"). Generated host frames full of the tricks that make JSON
 * readers disagree go through the real proxy, in front of an upstream that records every byte. In
 * enforce mode, every frame the upstream received must read the same (method, tool name, arguments)
 * under five readers (tests/helpers/readers.ts), that reading must be the one the policy evaluated
 * (its agent.guardrail.evaluated and agent.tool.started events), no reader may find a call a rule
 * blocks in it, and every method must be a plain string. In monitor mode the frames reach the
 * upstream unchanged. In both, the proxy is alive at the end and exits cleanly.
 *
 * `npm test` runs a few sessions; `npm run fuzz -- --runs N [--seed S] [--shrink]` runs more
 * (scripts/fuzz.mjs). A failure prints its seed and path; RATRI_FUZZ_SEED (and RATRI_FUZZ_PATH) replay
 * it, RATRI_FUZZ_SHRINK=1 shrinks it.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { BLOCKED_PATH, BLOCKED_TOOL, FuzzFrame, hostFrame, PATH_ARGS, PATH_TOOL } from '../helpers/frame-arbitraries.js';
import {
  FUZZ_REDACT_KEYS,
  FUZZ_SERVER,
  type FuzzEvent,
  type FuzzMode,
  type FuzzSessionResult,
  runFuzzSession,
} from '../helpers/fuzz-session.js';
import { disagreements, goFoldKey, type ReaderName, type Reading, readAll, readerNames, showFrame } from '../helpers/readers.js';

const env = process.env;
/** Sessions per mode; each sends up to FRAMES generated frames. */
const RUNS = Number(env.RATRI_FUZZ_RUNS ?? 5);
const FRAMES = 30;
type FuzzFrameList = FuzzFrame[];
const frameLists = fc.array(hostFrame, { minLength: 1, maxLength: FRAMES });

/**
 * One minimal frame of each kind the fuzzer has found forwarded (docs/golden-files.md, "The
 * differential fuzzer"), sent in one more session of each mode, so every run checks them again.
 * Each protocol one is also a golden session in fixtures/golden/ (named below).
 */
const found: FuzzFrameList = [
  // a raw \r hides a call from JSON.parse (enforce-cr-hides-a-call)
  '{"x":\r{"jsonrpc":"2.0","id":"f1","method":"tools/call","params":{"name":"exec","arguments":{}}}\r,"jsonrpc":"2.0","id":"f2","method":"ping"}',
  // the first of two methods is a call (enforce-duplicate-keys-before-routing)
  '{"jsonrpc":"2.0","id":"f3","method":"tools/call","params":{"name":"exec"},"method":"ping"}',
  // Go reads Name, METHOD, argumentſ (enforce-case-folded-keys)
  '{"jsonrpc":"2.0","id":"f4","method":"tools/call","params":{"name":"read_file","Name":"exec"}}',
  '{"jsonrpc":"2.0","id":"f5","method":"ping","METHOD":"tools/call","params":{"name":"exec"}}',
  '{"jsonrpc":"2.0","id":"f6","method":"tools/call","params":{"name":"read_file","argument\u017f":{"path":"/etc/passwd"}}}',
  // a method that is not a string, a NUL in a method (enforce-odd-methods-and-names)
  '{"jsonrpc":"2.0","id":"f7","method":["tools/call"]}',
  '{"jsonrpc":"2.0","id":"f8","method":"tools/call\\u0000","params":{"name":"exec"}}',
  // an argument a rule reads, spelled in another case (enforce-argument-names-any-case)
  '{"jsonrpc":"2.0","id":"f9","method":"tools/call","params":{"name":"read_file","arguments":{"Path":"/etc/shadow"}}}',
  // Go folds rune by rune: U+0130 is a plain i, U+1E9E an ß (enforce-go-folds-rune-by-rune)
  '{"jsonrpc":"2.0","id":"f10","method":"tools/call","params":{"name":"read_file","arguments":{"file":"/tmp/x","f\u0130le":"/etc/shadow"}}}',
  '{"jsonrpc":"2.0","id":"f11","method":"tools/call","params":{"name":"read_file","arguments":{"f\u0130le":"/etc/shadow"}}}',
  '{"jsonrpc":"2.0","id":"f14","method":"tools/call","params":{"name":"echo","arguments":{"stra\u00dfe":"a","stra\u1e9ee":"b"}}}',
  // a key or a string that ends at a NUL for a C reader such as cJSON (enforce-nul-in-keys, enforce-nul-in-strings)
  '{"jsonrpc":"2.0","id":"f15","method\\u0000x":"tools/call","method":"ping","params":{"name":"exec"}}',
  '{"jsonrpc":"2.0","id":"f16","method":"tools/call","params":{"name":"read_file","arguments":{"path\\u0000":"/etc/shadow","path":"/tmp/ok"}}}',
  '{"jsonrpc":"2.0","id":"f17","method":"tools/call","params":{"name":"read_file","arguments":{"path":"/tmp/x\\u0000/../../etc/shadow"}}}',
  // a "__proto__" argument was missing from the event (lib/telemetry/redact.ts; tests/unit/telemetry.test.ts)
  '{"jsonrpc":"2.0","id":"f13","method":"tools/call","params":{"name":"echo","arguments":{"__proto__":{"path":"/etc/shadow"},"x":1}}}',
  // a notification call, then a call with "id": null, a request all the same (answered, so recorded first): the check's order
  '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo","arguments":{"file":"/tmp/n"}}}',
  '{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"echo"}}',
  // two ids that are one number (18.0, then 18): a JSON.stringify upstream answers both as 18, so one
  // call's answer settled the other's (same-number-id-as-a-pending-call-refused); the second is refused now
  '{"jsonrpc":"2.0","id":18.0,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/tmp/a"}}}',
  '{"jsonrpc":"2.0","id":18,"method":"tools/call","params":{"name":"echo","arguments":{"x":1}}}',
  // a batch element nested 6000 deep crashed the proxy in both modes (enforce-deep-batch-element, monitor-deep-batch-element)
  `[{"jsonrpc":"2.0","id":"f12","method":"tools/call","params":{"name":"echo","arguments":{"a":${'['.repeat(6000)}${']'.repeat(6000)}}}}]`,
].map((text) => new FuzzFrame(Buffer.from(text, 'utf8')));

const parameters: fc.Parameters<[FuzzFrameList]> = {
  numRuns: RUNS,
  examples: [[found]],
  ...(env.RATRI_FUZZ_SEED ? { seed: Number(env.RATRI_FUZZ_SEED) } : {}),
  ...(env.RATRI_FUZZ_PATH ? { path: env.RATRI_FUZZ_PATH } : {}),
  // Each run is a proxy session; the failing frame is named in the error, so `npm test` does not shrink.
  endOnFailure: env.RATRI_FUZZ_SHRINK !== '1',
};
const sessionTimeout = (RUNS + 3) * 20_000;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function fail(what: string, frame?: Buffer, detail?: unknown): never {
  const shown = frame ? `\nframe the upstream received: ${showFrame(frame)}` : '';
  const more = detail === undefined ? '' : `\n${JSON.stringify(detail, null, 1).slice(0, 4000)}`;
  throw new Error(`${what}${shown}${more}`);
}

function checkAliveAndExited(s: FuzzSessionResult): void {
  if (!s.aliveAtEnd) fail(`the proxy died during the session (exit ${JSON.stringify(s.exit)}); stderr:\n${s.stderr.slice(-3000)}`);
  if (s.exit.code !== 0) fail(`the proxy exited with ${JSON.stringify(s.exit)} after its input closed; stderr:\n${s.stderr.slice(-3000)}`);
}

/**
 * An event's arguments are the forwarded call's: the same members, each one named in redactKeys
 * "[REDACTED]" (compared case-insensitively), nesting past the event's depth limit "[too deep]"
 * (docs/events.md, "Redaction"). Checked without lib/telemetry/redact.ts, so a bug there shows.
 */
function sameAsRecorded(recorded: unknown, read: unknown, depth = 0): boolean {
  if (recorded === '[too deep]' && depth >= 60) return true;
  if (Array.isArray(recorded))
    return Array.isArray(read) && read.length === recorded.length && recorded.every((v, i) => sameAsRecorded(v, read[i], depth + 1));
  if (isObject(recorded)) {
    if (!isObject(read)) return false;
    const keys = Object.keys(recorded);
    if (keys.length !== Object.keys(read).length || !keys.every((k) => Object.hasOwn(read, k))) return false;
    return keys.every((k) =>
      REDACTED_KEYS.has(k.toLowerCase()) ? recorded[k] === '[REDACTED]' : sameAsRecorded(recorded[k], read[k], depth + 1),
    );
  }
  return recorded === read;
}
const REDACTED_KEYS = new Set(FUZZ_REDACT_KEYS.map((k) => k.toLowerCase()));

/**
 * `request`: it has an id, `null` included (JSON-RPC 2.0 discourages it but it is still a request, and
 * the upstream answers it), so its record is written when it is answered; a notification's, at session end.
 */
type Call = Extract<Reading, { kind: 'message' }> & { frame: Buffer; request: boolean };

/** For each message of a frame (one, or a batch's elements) as JSON.parse reads it: whether it is a request. */
function requestFlags(frame: Buffer): boolean[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame.toString('utf8'));
  } catch {
    return [];
  }
  return (Array.isArray(parsed) ? parsed : [parsed]).map((m) => isObject(m) && Object.hasOwn(m, 'id'));
}

const RULES = [
  { id: 'no-exec', tool: BLOCKED_TOOL, decision: 'block', reason: 'shell is off-limits' },
  ...PATH_ARGS.map((arg) => ({ id: `no-etc-${arg}`, tool: PATH_TOOL, args: { [arg]: { regex: BLOCKED_PATH } }, decision: 'block' })),
];
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The rule that blocks this call as the reader reads it (Go's reading has its argument keys folded: `path` is `PATH`, and so is `Path`). */
function blockingRule(reader: ReaderName, r: Reading): string | undefined {
  if (r.kind !== 'message' || r.method !== 'tools/call') return undefined;
  if (r.name === BLOCKED_TOOL) return 'no-exec';
  if (r.name !== PATH_TOOL || !isObject(r.arguments)) return undefined;
  const args = r.arguments;
  const arg = PATH_ARGS.find((a) => {
    const value = args[reader === 'goFold' ? goFoldKey(a) : a];
    return typeof value === 'string' && new RegExp(BLOCKED_PATH).test(value);
  });
  return arg && `no-etc-${arg}`;
}

/** What the policy could not have read as the upstream will (docs/policy.md): a method that is not a string, control characters. */
function envelopeProblem(r: Reading): string | undefined {
  if (r.kind !== 'message' || r.method === undefined) return undefined;
  if (typeof r.method !== 'string') return 'a method that is not a string';
  if (CONTROL.test(r.method)) return 'a method with control characters (a C server stops at NUL)';
  if (r.method === 'tools/call' && typeof r.name === 'string' && CONTROL.test(r.name)) return 'a tool name with control characters';
  return undefined;
}

/** Every frame reads alike under all readers, none of them finds a blocked call in it, and its envelope is plain. */
function checkReaders(frames: Buffer[]): Call[] {
  const calls: Call[] = [];
  for (const frame of frames) {
    const all = readAll(frame);
    const differ = disagreements(all);
    if (differ.length > 0) fail(`readers disagree: ${differ.join(', ')} read it otherwise than JSON.parse`, frame, all);
    for (const reader of readerNames) {
      for (const r of all[reader]) {
        const rule = blockingRule(reader, r);
        if (rule) fail(`a call that rule ${rule} blocks was forwarded (as ${reader} reads it)`, frame, all);
      }
    }
    const requests = requestFlags(frame);
    all.lastKey.forEach((r, i) => {
      const problem = envelopeProblem(r);
      if (problem) fail(`forwarded ${problem}`, frame, all);
      if (r.kind === 'message' && r.method === 'tools/call') calls.push({ ...r, frame, request: requests[i] === true });
    });
  }
  return calls;
}

/**
 * Each forwarded call is, in order, the one the policy evaluated (allow/warn) and recorded as started.
 * The order is that of requests and of notifications each: a call is recorded when it ends
 * (docs/events.md), and a notification never ends, so its record comes at the session's end.
 */
function checkEvents(forwarded: Call[], events: FuzzEvent[]): void {
  // A request's call ended (the upstream answers every request); a notification's never does. Its
  // requestId cannot tell: a notification and a request with "id": null both record "null".
  const callOf = (e: FuzzEvent): string => e.id.slice(0, -1);
  const ended = new Set(events.filter((e) => e.type === 'agent.tool.completed' || e.type === 'agent.tool.failed').map(callOf));
  const ofRequest = (e: FuzzEvent): boolean => ended.has(callOf(e));
  const inCallOrder = (list: FuzzEvent[]): FuzzEvent[] => [...list.filter(ofRequest), ...list.filter((e) => !ofRequest(e))];
  const calls = [...forwarded.filter((c) => c.request), ...forwarded.filter((c) => !c.request)];
  const evaluated = inCallOrder(
    events.filter((e) => e.type === 'agent.guardrail.evaluated' && (e.data.decision === 'allow' || e.data.decision === 'warn')),
  );
  const started = inCallOrder(events.filter((e) => e.type === 'agent.tool.started'));
  if (evaluated.length !== calls.length || started.length !== calls.length) {
    fail(
      `${calls.length} tools/call forwarded, but ${evaluated.length} allowed by the policy and ${started.length} started`,
      calls[0]?.frame,
      { evaluated, started },
    );
  }
  calls.forEach((call, i) => {
    const tool = `${FUZZ_SERVER}.${String(call.name)}`;
    const ev = evaluated[i]!;
    const st = started[i]!;
    if (ev.data.enforced !== true || ev.data.tool !== tool || st.data.tool !== tool)
      fail(`forwarded a call to ${tool}, the policy evaluated ${String(ev.data.tool)}`, call.frame, { evaluated: ev, started: st });
    const args = isObject(call.arguments) ? call.arguments : {};
    if (!sameAsRecorded(st.data.arguments, args))
      fail(`the arguments recorded differ from those forwarded`, call.frame, { recorded: st.data.arguments, read: args });
  });
}

async function enforceProperty(frames: FuzzFrameList): Promise<void> {
  const session = await runFuzzSession(
    'enforce',
    frames.map((f) => f.bytes),
    RULES,
  );
  checkAliveAndExited(session);
  checkEvents(checkReaders(session.receivedFrames), session.events);
}

async function monitorProperty(frames: FuzzFrameList): Promise<void> {
  const session = await runFuzzSession(
    'monitor',
    frames.map((f) => f.bytes),
    RULES,
  );
  checkAliveAndExited(session);
  if (!session.received.equals(session.sent)) {
    const at = [...session.sent].findIndex((b, i) => session.received[i] !== b);
    fail(
      `monitor mode changed the bytes: upstream received ${session.received.length} bytes, the host sent ${session.sent.length}; first difference at byte ${at}`,
    );
  }
}

const modes: Record<FuzzMode, (frames: FuzzFrameList) => Promise<void>> = { enforce: enforceProperty, monitor: monitorProperty };

describe('differential fuzzing through the real proxy', () => {
  for (const [mode, property] of Object.entries(modes)) {
    it(`${mode} mode: the frames found so far, then ${RUNS} sessions of up to ${FRAMES} generated frames`, {
      timeout: sessionTimeout,
    }, async () => {
      await fc.assert(fc.asyncProperty(frameLists, property), parameters);
    });
  }
});
