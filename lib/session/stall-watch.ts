/**
 * Notices half-written frames that stop moving (a host or upstream that wrote part of a line and
 * stalled) and says so on stderr, once per stall. Nothing can be done to the frame itself — its
 * bytes cannot be cut or spliced — but a user looking at a silent session learns why.
 */

export interface StallProbe {
  /** What is stalled, for the message: "the host", "the upstream". */
  who: string;
  /** Bytes of the unfinished frame (0 when between frames). */
  partialBytes(): number;
  /** What waits behind it, for the message; empty when nothing does. */
  consequence(): string;
}

export class StallWatch {
  private readonly timer: NodeJS.Timeout;
  private readonly last = new Map<StallProbe, { bytes: number; since: number; reported: boolean }>();

  constructor(
    private readonly probes: StallProbe[],
    private readonly afterMs: number,
    private readonly log: (message: string) => void,
  ) {
    this.timer = setInterval(() => this.check(), Math.max(50, Math.floor(afterMs / 2))).unref();
  }

  private check(): void {
    const now = Date.now();
    for (const probe of this.probes) {
      const bytes = probe.partialBytes();
      const seen = this.last.get(probe);
      if (bytes === 0 || !seen || seen.bytes !== bytes) {
        this.last.set(probe, { bytes, since: now, reported: false });
        continue;
      }
      if (!seen.reported && now - seen.since >= this.afterMs) {
        seen.reported = true;
        const waiting = probe.consequence();
        this.log(
          `${probe.who} has sent ${bytes} bytes of a frame without its newline and nothing more for ${((now - seen.since) / 1000).toFixed(1)} s` +
            (waiting ? `; ${waiting}` : ''),
        );
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
