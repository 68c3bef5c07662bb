/**
 * An in-memory relay for unit tests (in the spirit of the MCP SDK's InMemoryTransport.createLinkedPair):
 * a host end and an upstream end joined by a real Interceptor, wired the way lib/session/proxy-session.ts
 * wires it (a FrameReader on each side, a FrameWriter to the host that relays upstream bytes), with
 * in-memory ports: a policy function, an approval desk the test resolves, an observer that records
 * every call. Bytes are kept exactly as written, so tests compare them byte for byte.
 */
import { Writable } from 'node:stream';
import { FrameReader } from '../../lib/framing/frame-reader.js';
import { FrameWriter } from '../../lib/framing/frame-writer.js';
import type { GuardAnswer, GuardRequest } from '../../lib/policy/policy-hook.js';
import { ResultRules } from '../../lib/policy/result-rules.js';
import type { ToolAnnotations } from '../../lib/policy/tool-catalog.js';
import { Interceptor } from '../../lib/relay/interceptor.js';
import type { CallObserver, CallRecord, RelaySettings } from '../../lib/relay/ports.js';
import type { FindSecrets } from '../../lib/secrets/find-secrets.js';

type Outcome = 'approved' | 'rejected' | 'timeout';

export interface HarnessOptions {
  mode?: 'monitor' | 'enforce';
  /** The policy; default: allow everything. */
  decide?: (request: GuardRequest) => GuardAnswer | Promise<GuardAnswer>;
  settings?: Partial<RelaySettings>;
}

/** One call the observer received: its method name and arguments. */
export type Observed = [method: keyof CallObserver, ...args: unknown[]];

/** Lines of bytes, split at each newline (the newline dropped; a last unterminated part kept). */
function lines(bytes: Buffer): string[] {
  const text = bytes.toString('utf8');
  const parts = text.split('\n');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

function collector(): { stream: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      done();
    },
  });
  return { stream, bytes: () => Buffer.concat(parts) };
}

/** An observer that records every call, in order; calls are described as `<server>.<tool>`. */
function recordingObserver(seen: Observed[]): CallObserver {
  const note =
    (method: keyof CallObserver) =>
    (...args: unknown[]): void => {
      seen.push([method, ...args]);
    };
  return {
    describeCall: (
      requestId: string,
      tool: string,
      args: Record<string, unknown>,
      _a: ToolAnnotations | undefined,
      bytes: number,
      _version?: string,
      startedAt?: number,
    ) => {
      seen.push(['describeCall', requestId, tool, args, bytes, ...(startedAt === undefined ? [] : [startedAt])]);
      return { requestId, namespacedTool: `srv.${tool}` } satisfies CallRecord;
    },
    linkRound: note('linkRound'),
    // Not noted: the host's traceparent, as a proxy that exports no spans sends it.
    traceparentFor: (call: CallRecord) => call.traceparent,
    guardrailEvaluated: note('guardrailEvaluated'),
    approvalRequested: note('approvalRequested'),
    approvalResolved: note('approvalResolved'),
    toolStarted: note('toolStarted'),
    toolFinished: note('toolFinished'),
    resultEvaluated: note('resultEvaluated'),
    toolsRegistered: note('toolsRegistered'),
    warning: note('warning'),
    track: () => undefined,
  };
}

/** A secret finder that finds nothing (no result rule in these tests scans for secrets). */
const noSecrets: FindSecrets = Object.assign(() => [], { mayHold: () => false, mayHoldRemembered: () => false });

export function settingsFor(mode: 'monitor' | 'enforce', overrides: Partial<RelaySettings> = {}): RelaySettings {
  return {
    mode,
    sessionId: 'session-1',
    agentKey: 'agent',
    environment: 'test',
    serverName: 'srv',
    maxFrameBytes: 1024 * 1024,
    refusal: 'error',
    approvalTimeoutMs: 60_000,
    progressIntervalMs: 0,
    grantWindowMs: 0,
    redactKeys: [],
    guardTimeoutMs: 1000,
    guardFailureMode: 'fail_closed',
    results: new ResultRules({ rules: [] }, 'srv', 'test', noSecrets),
    ...overrides,
  };
}

export function createLinkedRelay(options: HarnessOptions = {}) {
  const seen: Observed[] = [];
  const toUpstream: Buffer[] = [];
  const hostOut = collector();
  const hostWriter = new FrameWriter(hostOut.stream);
  /** Approvals the test resolves: approval id → resolve. */
  const waiting = new Map<string, (outcome: Outcome) => void>();
  const announced: string[] = [];
  const logged: string[] = [];
  const settings = settingsFor(options.mode ?? 'enforce', options.settings);
  const interceptor = new Interceptor({
    settings,
    decider: { evaluate: options.decide ?? (() => ({ decision: 'allow' })) },
    tools: { registerTools: () => ({ changed: [] }) },
    approvals: {
      awaitApproval: (id, _timeoutMs, signal) =>
        new Promise<Outcome>((resolve, reject) => {
          waiting.set(id, resolve);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      announce: (id) => announced.push(id),
    },
    observer: recordingObserver(seen),
    toUpstream: (frame, terminated) => toUpstream.push(terminated ? Buffer.concat([frame, Buffer.from('\n')]) : frame),
    toHost: (frame) => void hostWriter.writeFrame(frame),
    log: (message) => logged.push(message),
  });
  const hostReader = new FrameReader(
    {
      onFrame: (frame, terminated) => interceptor.onHostFrame(frame, terminated),
      onOversize: (info) => interceptor.onHostOversize(info),
    },
    { maxFrameBytes: settings.maxFrameBytes },
  );
  const tap = new FrameReader(
    {
      onFrame: (frame) => (interceptor.gatesAnswers ? interceptor.onUpstreamFrameGated(frame) : interceptor.onUpstreamFrame(frame)),
      onOversize: (info) => interceptor.onUpstreamOversize(info),
    },
    { maxFrameBytes: settings.maxFrameBytes },
  );
  return {
    interceptor,
    /** Every call the observer received, in order. */
    seen,
    /** Of the observer's calls, those to one method. */
    calls: (method: keyof CallObserver) => seen.filter((s) => s[0] === method).map((s) => s.slice(1)),
    announced,
    /** Lines the relay wrote to its stderr. */
    logged,
    host: {
      /** Writes bytes as the host would (a newline is not added). */
      write: (text: string) => {
        hostReader.push(Buffer.from(text));
        interceptor.afterHostChunk(); // as host-pipe.ts does after each chunk
      },
      /** Writes bytes as the host would, which the upstream has not taken yet (its stdin full: host-pipe.ts). */
      writeUntaken: (text: string) => {
        hostReader.push(Buffer.from(text));
        interceptor.readLater();
      },
      /** What the host read, line by line. */
      lines: () => lines(hostOut.bytes()),
      bytes: () => hostOut.bytes(),
      /** What the host read, parsed. */
      messages: () => lines(hostOut.bytes()).map((l) => JSON.parse(l) as Record<string, unknown>),
    },
    upstream: {
      /** Writes bytes as the upstream would: relayed to the host (unless gated), then tapped. */
      write: (text: string) => {
        const chunk = Buffer.from(text);
        if (!interceptor.gatesAnswers) hostWriter.relay(chunk);
        tap.push(chunk);
      },
      /** What the upstream read, byte for byte. */
      bytes: () => Buffer.concat(toUpstream),
      lines: () => lines(Buffer.concat(toUpstream)),
      exit: (code: number | null) => interceptor.failAll(code, null),
    },
    /** Resolves the approval a held call waits for. */
    resolveApproval: (id: string, outcome: Outcome) => {
      const resolve = waiting.get(id);
      if (!resolve) throw new Error(`no call waits for approval ${id}`);
      resolve(outcome);
    },
  };
}

/** Lets pending promise callbacks run (holds end on a later turn). */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
