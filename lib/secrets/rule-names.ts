/**
 * The names of the detector's rules (docs/secrets.md), written out so that the config loader and the
 * prefilter know them without loading secretlint: a proxy whose calls hold nothing secret-looking
 * never loads it (docs/performance.md, start-up). tests/unit/secrets.test.ts checks this list against
 * the installed preset, so an upgrade that adds or drops a rule fails there, not at a user's start.
 */
const PREFIX = '@secretlint/secretlint-rule-';

/** secretlint's pattern rule, which runs the `jwt` pattern. */
export const PATTERN_RULE_ID = `${PREFIX}pattern`;

export const JWT_RULE = 'jwt';

/** The recommended preset's rules (12.0.0), in its order, without `filter-comments` (secret-rules.ts says why). */
const PRESET_RULES = [
  'aws',
  'gcp',
  'privatekey',
  'npm',
  'basicauth',
  'slack',
  'sendgrid',
  'shopify',
  'github',
  'gitlab',
  'grafana',
  'openai',
  'anthropic',
  'groq',
  'huggingface',
  'linear',
  'notion',
  '1password',
  'database-connection-string',
  'hashicorp-vault',
  'vercel',
  'databricks',
  'docker',
  'figma',
] as const;

/** Every rule `secrets.disabledRules` can name, in the preset's order, then `jwt`. */
export const SECRET_RULES: readonly string[] = [...PRESET_RULES, JWT_RULE];

/** A secretlint rule id (`@secretlint/secretlint-rule-aws`) as ratri names it (`aws`); the pattern rule is `jwt`. */
export function shortRuleName(ruleId: string): string {
  if (ruleId === PATTERN_RULE_ID) return JWT_RULE;
  return ruleId.startsWith(PREFIX) ? ruleId.slice(PREFIX.length) : ruleId;
}
