/**
 * Which secretlint rules ratri runs (docs/secrets.md): the recommended preset
 * (`@secretlint/secretlint-rule-preset-recommend`), less its `filter-comments` rule, plus
 * `@secretlint/secretlint-rule-pattern` with one pattern, `jwt`, since the preset has no rule for
 * JSON Web Tokens. A rule is named by its package's short name (`aws`, `privatekey`, `jwt`), the name
 * `secrets.disabledRules` takes and `[REDACTED:<rule>]` shows.
 */
import type { lintSource } from '@secretlint/core';
import { creator as patternRule } from '@secretlint/secretlint-rule-pattern';
import { rules as presetRules } from '@secretlint/secretlint-rule-preset-recommend';
import { JWT_RULE, shortRuleName } from './rule-names.js';

type SecretLintCoreConfig = Parameters<typeof lintSource>[0]['options']['config'];

/**
 * Never run: it reads `secretlint-disable` comments in the scanned text, so a host or an upstream
 * could switch detection off by writing one into an argument or a result.
 */
const FILTER_COMMENTS = '@secretlint/secretlint-rule-filter-comments';

/** The JWT pattern of gitleaks' `jwt` rule (github.com/gitleaks/gitleaks, config/gitleaks.toml). */
const JWT_PATTERN = String.raw`/\bey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9\/\\_-]{17,}\.(?:[a-zA-Z0-9\/\\_-]{10,}={0,2})?/`;

/**
 * The secretlint config that runs every rule but `disabled` (short names, already checked against
 * SECRET_RULES). The preset's rules are listed one by one: @secretlint/core does not read `disabled`
 * on a rule inside a preset (its config loader does, which ratri does not use).
 */
export function secretlintConfig(disabled: readonly string[]): SecretLintCoreConfig {
  const off = new Set(disabled);
  const rules: SecretLintCoreConfig['rules'] = presetRules
    .filter((r) => r.meta.id !== FILTER_COMMENTS && !off.has(shortRuleName(r.meta.id)))
    .map((rule) => ({ id: rule.meta.id, rule }));
  if (!off.has(JWT_RULE)) {
    rules.push({ id: patternRule.meta.id, rule: patternRule, options: { patterns: [{ name: JWT_RULE, patterns: [JWT_PATTERN] }] } });
  }
  return { rules };
}
