/**
 * `ratri demo` from start to finish: a workspace, the real proxy in front of the demo server, the
 * scripted session, a clean stop, and the store read back. Nothing is left running, and the temp
 * folder is deleted unless the run is kept.
 */
import { randomUUID } from 'node:crypto';
import type { StoredEvent } from '../control/event-store.js';
import { LocalControlPlane } from '../control/local-control-plane.js';
import { isProcessAlive } from '../node/process-alive.js';
import { type CallRow, callRows, checkEvents, countByType, upstreamPid } from './demo-events.js';
import { DemoHost } from './demo-host.js';
import { type CallResult, DEMO_TOKEN, type DemoStep, ScriptedSession } from './demo-session.js';
import { createWorkspace, type DemoWorkspace, removeWorkspace } from './demo-workspace.js';

export interface DemoOptions {
  /** Keep the workspace and write the store to `$RATRI_HOME/demo.db`, to look at afterwards. */
  keep: boolean;
  /** Called once the workspace exists, before the proxy starts. */
  onStart?(ws: DemoWorkspace): void;
  /** Called for each step as it happens. */
  onStep?(step: DemoStep): void;
  /** Ctrl-C: the run stops, cleans up, and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** How long the demo waits before approving, like a human would (default 1 s). */
  approveAfterMs?: number;
  /** The whole run's deadline (default 30 s). */
  deadlineMs?: number;
}

/** What `ratri demo --json` prints. */
export interface DemoSummary {
  ok: boolean;
  problems: string[];
  /** The calls as the host saw them. */
  calls: CallResult[];
  /** The calls as the store recorded them. */
  recorded: CallRow[];
  sessionId: string;
  store: string;
  /** The temp folder (sandbox and config); deleted unless `kept`. */
  workspace: string;
  sandbox: string;
  config: string;
  kept: boolean;
  eventCounts: Record<string, number>;
  proxyExit: { code: number | null; signal: string | null; forced: boolean } | null;
  durationMs: number;
}

/**
 * Ends the session's upstream if it outlived the proxy (a proxy killed the hard way cannot stop it).
 * Returns its pid when it had to, so the run can say so. The upstream leads its own process group.
 */
function killLeftoverUpstream(plane: LocalControlPlane, sessionId: string): number | null {
  const pid = upstreamPid(plane.eventStore.query({ sessionId, type: 'mcp.session.started', limit: 1 }));
  if (pid === null || !isProcessAlive(pid)) return null;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return pid;
}

/** Runs the demo. Rejects only when it cannot start or is interrupted; otherwise `ok` says how it went. */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const began = performance.now();
  const ws = createWorkspace(options.keep);
  let plane: LocalControlPlane | undefined;
  let host: DemoHost | undefined;
  // A run that could not start has nothing worth keeping: its workspace goes even with --keep.
  let keepWorkspace = false;
  const sessionId = randomUUID();
  try {
    // Opened first, so a store that cannot be used (a newer schema in a kept demo.db) fails before anything starts.
    try {
      plane = LocalControlPlane.open(ws.store);
    } catch (err) {
      const hint = options.keep ? ' (a --keep run writes there; delete that file to start afresh)' : '';
      throw new Error(`${(err as Error).message}${hint}`);
    }
    // RATRI_SESSION_ID: the demo knows the proxy's session id, to find its approvals and events.
    host = new DemoHost(ws.config, { RATRI_SESSION_ID: sessionId });
    keepWorkspace = options.keep;
    options.onStart?.(ws);
    const deadline = AbortSignal.timeout(options.deadlineMs ?? 30_000);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const report = (step: DemoStep): void => options.onStep?.(step);
    const session = new ScriptedSession({
      host,
      plane,
      sessionId,
      sandbox: ws.sandbox,
      report,
      signal,
      approveAfterMs: options.approveAfterMs ?? 1000,
    });
    const problems: string[] = [];
    try {
      await session.run();
    } catch (err) {
      if (options.signal?.aborted) throw err; // Ctrl-C: the finally below cleans up, the caller says so
      problems.push(deadline.aborted ? `the demo did not finish within ${options.deadlineMs ?? 30_000} ms` : (err as Error).message);
    }
    problems.unshift(...session.problems);

    const exit = await host.stop();
    const stderr = host.stderr.trim();
    host = undefined;
    if (exit.code === 0 && !exit.forced) {
      report({ mark: 'ok', text: 'the host closed its input: ratri stopped the demo server and exited with code 0' });
    } else {
      const how = exit.forced ? 'did not stop by itself and was killed' : `exited with ${exit.code ?? exit.signal}`;
      problems.push(`the proxy ${how}${stderr ? `; it said:\n${stderr}` : ''}`);
    }

    // Read after the proxy exited: it flushes its last events before it does.
    const events: StoredEvent[] = plane.eventStore.query({ sessionId, limit: 10_000 });
    problems.push(...checkEvents(events, session.calls, DEMO_TOKEN));
    const approvals = (await plane.listApprovals()).filter((a) => a.sessionId === sessionId);
    if (JSON.stringify(approvals).includes(DEMO_TOKEN)) problems.push('the token value reached the approvals table: redaction failed');
    const leftover = killLeftoverUpstream(plane, sessionId);
    if (leftover !== null) problems.push(`the demo server (pid ${leftover}) was still running after the proxy exited; the demo killed it`);

    return {
      ok: problems.length === 0,
      problems,
      calls: session.calls,
      recorded: callRows(events),
      sessionId,
      store: ws.store,
      workspace: ws.dir,
      sandbox: ws.sandbox,
      config: ws.config,
      kept: options.keep,
      eventCounts: countByType(events),
      proxyExit: { code: exit.code, signal: exit.signal, forced: exit.forced },
      durationMs: Math.round(performance.now() - began),
    };
  } finally {
    if (host) {
      await host.stop(1000); // interrupted or failed early: still leave nothing running
      if (plane?.db.open) killLeftoverUpstream(plane, sessionId);
    }
    await plane?.close();
    if (!keepWorkspace) removeWorkspace(ws);
  }
}
