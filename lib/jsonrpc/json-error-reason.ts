/**
 * The reason an `invalid_json` warning records. V8's JSON.parse message quotes part of the input
 * (`Unexpected token 'h', ..."password":hunter2-se"... is not valid JSON`), and the input is exactly
 * what could not be parsed, so `redactKeys` cannot find the secrets in it. The quoted part never
 * reaches a sink: such a message is replaced by one that quotes nothing (docs/events.md, `proxy.warning`).
 */

/** `reason` (a JSON.parse error message) without any part of the input it quotes. */
export function jsonErrorReason(reason: string): string {
  // The messages that quote input are the ones ending so; the others give a position ("in JSON at
  // position 9") or nothing ("Unexpected end of JSON input").
  return /is not valid JSON$/.test(reason) ? 'Unexpected token: the frame is not valid JSON (its text is not recorded)' : reason;
}
