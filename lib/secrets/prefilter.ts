/**
 * The cheap test that runs before secretlint (docs/secrets.md#cost): one regular expression made of
 * a fragment per rule that every text the rule reports must contain (its token prefix, its key
 * name, or the start of its own pattern, spelled as loosely as the rule spells it). A text with none
 * of them cannot hold a secret any rule finds, so it costs microseconds instead of a secretlint run.
 * A fragment may let through text the rule then finds clean; it must never stop text the rule would
 * report (tests/unit/secrets.test.ts runs secretlint's own test vectors through both).
 */

/** Letters in either case, as the rules that match case-insensitively spell them. */
const anyCase = (word: string): string =>
  [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c.replace(/[.]/g, '\\.'))).join('');

/** Each rule's fragment, by the rule's short name (secret-rules.ts). */
export const RULE_FRAGMENTS: Readonly<Record<string, string>> = {
  // Access key ids by prefix; the secret access key and the account id only next to their key names.
  aws: String.raw`(?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16}|${anyCase('secret')}_?${anyCase('access')}|${anyCase('account')}`,
  // A service account key file holds a PEM private key.
  gcp: '-----BEGIN',
  privatekey: '-----BEGIN',
  npm: 'x-oauth-basic@|_authToken=|npm_',
  basicauth: String.raw`:\/\/[-\w]{1,256}:[-\w]{1,256}@`,
  slack: `xox[bparo]-|xapp-|${anyCase('hooks.slack.com')}`,
  sendgrid: String.raw`SG\.`,
  shopify: 'shp(?:pa|ca|at|ss)_',
  github: 'gh[pousr]_|github_pat_',
  gitlab: 'glpat-',
  grafana: 'glc_|glsa_',
  openai: 'T3BlbkFJ',
  anthropic: 'sk-ant-',
  groq: 'gsk_',
  huggingface: 'hf_',
  linear: 'lin_api_',
  notion: 'ntn_',
  '1password': 'ops_',
  'database-connection-string': `${anyCase('mongodb')}|${anyCase('mysql')}|${anyCase('postgres')}`,
  'hashicorp-vault': String.raw`hv[sbr]\.`,
  vercel: 'v(?:cp|ci|ca|cr|ck)_',
  databricks: 'dapi',
  docker: 'dckr_pat_',
  figma: 'figd_',
  jwt: String.raw`ey[a-zA-Z0-9]{17,}\.ey`,
};

/** The test for the rules that run: true when the text may hold a secret one of them reports. */
export function makePrefilter(rules: readonly string[]): (text: string) => boolean {
  // A rule with no fragment (one a newer preset added) lets every text through: slower, never blind.
  if (rules.some((r) => RULE_FRAGMENTS[r] === undefined)) return () => true;
  const fragments = [...new Set(rules.map((r) => RULE_FRAGMENTS[r]!))];
  if (fragments.length === 0) return () => false;
  const re = new RegExp(fragments.join('|'));
  return (text) => re.test(text);
}
