/** How Go's `encoding/json` matches a JSON key to a field name: case-folded (docs/policy.md, "One frame, one reading"). */
const NOT_ASCII = /[\u0080-\uffff]/;
const COMBINING_DOT = /\u0307/g;

/**
 * A key's case-folded form, as Go's `encoding/json` compares names: it maps each character to
 * upper(lower(c)), so `ſ` is `s`, the Kelvin sign `k`, the dotted capital `İ` a plain `i` and the
 * dotless `ı` an `i` too. JavaScript's full case mappings stand in for Go's simple ones (lower, upper,
 * lower again, and the combining dot that lower-casing `İ` leaves is dropped); where they fold more
 * than Go does (`ß` and `ss`), callers refuse more, never less.
 */
export function foldKey(key: string): string {
  return NOT_ASCII.test(key) ? key.toLowerCase().toUpperCase().toLowerCase().replace(COMBINING_DOT, '') : key.toLowerCase();
}
