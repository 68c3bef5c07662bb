/**
 * How fast the proxy leaves once it is told to: the host closed its stdin, or a signal came. A host
 * gives its server little time: the MCP SDK's StdioClientTransport.close() ends the server's stdin,
 * sends SIGTERM 2 s later and SIGKILL 2 s after that, and a SIGKILLed ratri would leave its upstream
 * running and lose the session's last events. So the whole stop (answers on their way, the upstream
 * stopped, events flushed) is timed from when it began and fits well inside those 2 s
 * (docs/config.md, "When the proxy stops").
 */
import type { StopTimings } from './upstream-process.js';

/** Each time counts from when the stop began. */
export interface StopBudget {
  /** How long answers to forwarded requests (not cancelled) may still reach the host after it closed its input. */
  answersMs: number;
  /** When SIGTERM goes to the upstream's process group if it is still running. */
  termAtMs: number;
  /** When SIGKILL goes. */
  killAtMs: number;
  /** By when events are flushed (and uploaded, with a remote control plane) and ratri exits. */
  exitAtMs: number;
  /** After a signal during the stop, which kills the upstream at once: how long flushing may still take. */
  escalatedExitMs: number;
}

export const DEFAULT_STOP_BUDGET: StopBudget = { answersMs: 750, termAtMs: 1000, killAtMs: 1250, exitAtMs: 1800, escalatedExitMs: 500 };

/** A local store commits in milliseconds; never give the last flush less than this. */
const MIN_FLUSH_MS = 100;

/** One stop under way. */
export class StopClock {
  private readonly startedAt = Date.now();
  private exitAt: number;

  constructor(readonly budget: StopBudget = DEFAULT_STOP_BUDGET) {
    this.exitAt = this.startedAt + budget.exitAtMs;
  }

  /** The upstream's stop order from now: its stdin is closed, SIGTERM and SIGKILL follow at the budget's times. */
  upstreamTimings(): StopTimings {
    const elapsed = Date.now() - this.startedAt;
    return { graceMs: Math.max(0, this.budget.termAtMs - elapsed), termMs: this.budget.killAtMs - this.budget.termAtMs };
  }

  /** A signal during the stop: the exit comes sooner. */
  escalate(): void {
    this.exitAt = Math.min(this.exitAt, Date.now() + this.budget.escalatedExitMs);
  }

  /** What is left for flushing events. */
  flushMs(): number {
    return Math.max(MIN_FLUSH_MS, this.exitAt - Date.now());
  }
}
