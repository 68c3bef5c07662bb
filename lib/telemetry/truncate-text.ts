/**
 * Cuts a long string for an event without keeping part of a secret: secrets are detected in what is
 * kept (docs/secrets.md), and a token or a PEM block cut in half no longer looks like one. So the cut
 * never falls inside a run of token characters of up to 2048 (it moves back to the run's start; a
 * longer run is a blob and is cut where it falls), and a PEM block whose END line would be cut off is
 * left out from its BEGIN line on.
 */
const TOKEN_CHAR = /[A-Za-z0-9+/=_\-.~:@%]/;
/** Longer runs of token characters are cut where they fall: tokens (JWTs included) are shorter. */
const LONGEST_TOKEN = 2048;
const PEM_BEGIN = '-----BEGIN';
const PEM_END = '-----END';

/** The first `max` characters of `value` or fewer, ending where no secret can be cut; `value` itself when it fits. */
export function truncateText(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = max;
  if (TOKEN_CHAR.test(value.charAt(end))) {
    const floor = Math.max(0, max - LONGEST_TOKEN);
    while (end > floor && TOKEN_CHAR.test(value.charAt(end - 1))) end--;
    if (end === floor && floor > 0) end = max; // a run this long is a blob (base64, a hash list), not one token
  }
  const begin = value.lastIndexOf(PEM_BEGIN, end);
  if (begin !== -1 && pemBlockEnd(value, begin) > end) end = begin;
  return `${value.slice(0, end)}…[truncated ${value.length - end} chars]`;
}

/** Where the PEM block opened at `begin` ends (after its `-----END …-----` line), or Infinity when it does not. */
function pemBlockEnd(value: string, begin: number): number {
  const close = value.indexOf(PEM_END, begin);
  if (close === -1) return Number.POSITIVE_INFINITY;
  const dashes = value.indexOf('-----', close + PEM_END.length);
  return dashes === -1 ? Number.POSITIVE_INFINITY : dashes + 5;
}
