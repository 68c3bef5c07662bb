/** Times as people write them on a command line: `10m`, `2h`, `7d`, or an ISO date. */

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The ISO time `spec` means (a duration counts back from `now`); throws with a plain message, naming
 * the `option` it came from, when it means nothing.
 */
export function parseSince(spec: string, now: number = Date.now(), option = '--since'): string {
  const duration = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(spec.trim());
  if (duration) return new Date(now - Number(duration[1]) * UNITS[duration[2]!]!).toISOString();
  const date = Date.parse(spec);
  if (Number.isNaN(date))
    throw new Error(`${option} "${spec}": expected a duration such as 30s, 10m, 2h, 7d, or a date such as 2026-11-24T10:00:00Z`);
  return new Date(date).toISOString();
}

/** "in 4m 10s", "2h ago": how far `iso` is from `now`, for tables. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const ms = Date.parse(iso) - now;
  const s = Math.round(Math.abs(ms) / 1000);
  const text =
    s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}
