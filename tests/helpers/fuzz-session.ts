/**
 * One session of the differential fuzzer (tests/e2e/fuzz-differential.test.ts): the built proxy, in
 * monitor or enforce mode with the given guardrail rules, in front of the byte-recorder fixture
 * (fixtures/servers/byte-recorder.mjs, which keeps every byte it receives). The host writes
 * `initialize`, the generated frames, and a last `ping`; once that ping is answered every frame
 * before it has been decided and forwarded or refused. Then the host closes its input and the
 * session returns what the upstream received, the events (telemetry.jsonl), and whether the proxy
 * was still alive and how it exited.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { framesOf } from '../../lib/framing/frame-reader.js';
import { withDeadline } from '../../lib/node/deadline.js';
import { fixtureServer, isAlive, ProxyProcess, tempDir, writeConfig } from './cli.js';

export type FuzzMode = 'monitor' | 'enforce';

export const FUZZ_SERVER = 'fs';
export const FUZZ_REDACT_KEYS = ['token'];
const INIT =
  '{"jsonrpc":"2.0","id":"fuzz-init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}}';
const INITIALIZED = '{"jsonrpc":"2.0","method":"notifications/initialized"}';
const SENTINEL = '{"jsonrpc":"2.0","id":"fuzz-sentinel","method":"ping"}';

export interface FuzzEvent {
  /** The events of one call share their id but for its last hex digit (docs/events.md). */
  id: string;
  type: string;
  data: Record<string, unknown>;
}

export interface FuzzSessionResult {
  /** Every byte the host wrote (each frame with its `\n`). */
  sent: Buffer;
  /** Every byte the upstream received. */
  received: Buffer;
  /** The frames the upstream received, without their `\n`, from the first generated one to the last (the setup and the ping left out). */
  receivedFrames: Buffer[];
  events: FuzzEvent[];
  aliveAtEnd: boolean;
  exit: { code: number | null; signal: NodeJS.Signals | null; hung?: true };
  stderr: string;
}

const isSetup = (frame: Buffer): boolean => [INIT, INITIALIZED, SENTINEL].includes(frame.toString('utf8'));

/** Waits for the answer to `id`; false when the proxy exited first (a crash is a result, not a hang). */
async function answeredOrExited(proxy: ProxyProcess, id: string): Promise<boolean> {
  const answer = proxy.response(id, 30_000).then(() => true);
  answer.catch(() => undefined); // once the proxy has exited, the wait for the answer ends in a timeout nobody reads
  return Promise.race([answer, proxy.exited.then(() => false)]);
}

/** The proxy's exit once its input is closed; one that hangs is killed and reported as `hung`. */
async function exitWithin(proxy: ProxyProcess, ms: number): Promise<FuzzSessionResult['exit']> {
  const exit = await withDeadline(proxy.exited, ms, () => 'hung' as const);
  if (exit !== 'hung') return exit;
  proxy.child.kill('SIGKILL');
  await proxy.exited;
  return { code: null, signal: null, hung: true };
}

export async function runFuzzSession(mode: FuzzMode, frames: Buffer[], rules: unknown[]): Promise<FuzzSessionResult> {
  const dir = tempDir('ratri-fuzz-');
  try {
    const recordFile = join(dir, 'upstream-received.bin');
    const config = writeConfig(dir, {
      agentKey: 'fuzz',
      serverName: FUZZ_SERVER,
      mode,
      redactKeys: FUZZ_REDACT_KEYS,
      upstream: {
        command: process.execPath,
        args: [fixtureServer('byte-recorder.mjs')],
        env: { RECORD_FILE: recordFile, SENT_FILE: join(dir, 'upstream-sent.bin') },
      },
      guardrails: { rules },
      telemetry: { jsonl: 'telemetry.jsonl' },
      store: 'ratri.db',
    });
    const proxy = new ProxyProcess(['--config', config]);
    const written: Buffer[] = [];
    const write = (bytes: Buffer): void => {
      const line = Buffer.concat([bytes, Buffer.from('\n')]);
      written.push(line);
      proxy.child.stdin.write(line);
    };
    proxy.child.stdin.on('error', () => undefined); // a proxy that crashed is reported below, not as EPIPE
    try {
      write(Buffer.from(INIT));
      if (await answeredOrExited(proxy, 'fuzz-init')) {
        write(Buffer.from(INITIALIZED));
        for (const frame of frames) write(frame);
        write(Buffer.from(SENTINEL));
        await answeredOrExited(proxy, 'fuzz-sentinel');
      }
    } catch (err) {
      proxy.child.kill('SIGKILL');
      await proxy.exited;
      throw err;
    }
    const aliveAtEnd = isAlive(proxy.child.pid!);
    proxy.child.stdin.end();
    const exit = await exitWithin(proxy, 10_000);
    const received = existsSync(recordFile) ? readFileSync(recordFile) : Buffer.alloc(0);
    const eventsFile = join(dir, 'telemetry.jsonl');
    const events = existsSync(eventsFile)
      ? readFileSync(eventsFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as FuzzEvent)
      : [];
    return {
      sent: Buffer.concat(written),
      received,
      receivedFrames: framesOf(received).filter((f) => !isSetup(f)),
      events,
      aliveAtEnd,
      exit,
      stderr: proxy.stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
