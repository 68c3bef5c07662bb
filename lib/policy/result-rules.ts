/**
 * The result phase (docs/policy.md#phases-call-and-result): rules with `"on": "result"` judge the
 * upstream's answer to a `tools/call`. The most restrictive matching decision wins (block > redact >
 * warn > allow), ties go to the first listed, no match allows. Which tools a result rule can match is
 * known from its `tool` and `environment` alone, so answers to other tools are never read. The
 * result is scanned for secrets only when a result rule for the tool asks (`content.secrets`).
 */
import type { GuardrailsConfig, RuleConfig } from '../config/types.js';
import type { FindSecrets } from '../secrets/find-secrets.js';
import { findValueSecrets, type JsonSecrets } from '../secrets/json-secrets.js';
import { resultTexts } from './content-matcher.js';
import { redactResult, stillMatches } from './result-redaction.js';
import { isResultRule, ruleMatches, ruleReason, ruleScopeMatches, SEVERITY, type ToolCallFacts } from './rules.js';

export type ResultDecision = 'allow' | 'warn' | 'redact' | 'block';

export interface ResultVerdict {
  decision: ResultDecision;
  /** The deciding rule's id; null when no rule matched. */
  ruleId: string | null;
  reason: string;
}

export interface ResultJudgement {
  verdict: ResultVerdict;
  /** With `redact`: the result the host gets, and how many values were replaced in it. */
  redacted?: { result: unknown; redactions: number };
}

export class ResultRules {
  private readonly rules: RuleConfig[];
  /** For each bare tool name: the result rules whose `tool` and `environment` match it (one server and environment per proxy). */
  private readonly scope = new Map<string, RuleConfig[]>();

  constructor(
    guardrails: GuardrailsConfig,
    private readonly serverName: string,
    private readonly environment: string,
    private readonly find: FindSecrets,
  ) {
    this.rules = guardrails.rules.filter(isResultRule) as RuleConfig[];
  }

  /** False when the config has no result rule: then no answer is ever read for them. */
  get any(): boolean {
    return this.rules.length > 0;
  }

  private rulesFor(tool: string): RuleConfig[] {
    let rules = this.scope.get(tool);
    if (!rules) {
      const facts = { tool, serverName: this.serverName, environment: this.environment };
      rules = this.rules.filter((rule) => ruleScopeMatches(rule, facts));
      this.scope.set(tool, rules);
    }
    return rules;
  }

  /** Whether an answer to a call of this tool is judged (only those are read). */
  judges(tool: string): boolean {
    return this.rulesFor(tool).length > 0;
  }

  /** The decision for one answer: `result` is the answer's `result` member (or its `error`), as the host will read it. */
  judge(facts: ToolCallFacts, result: unknown): ResultJudgement | Promise<ResultJudgement> {
    const rules = this.rulesFor(facts.tool);
    if (!rules.some((r) => r.content?.secrets === true)) return this.decide(rules, facts, result, undefined);
    const found = findValueSecrets(result, this.find);
    return found instanceof Promise ? found.then((f) => this.decide(rules, facts, result, f)) : this.decide(rules, facts, result, found);
  }

  private decide(rules: RuleConfig[], facts: ToolCallFacts, result: unknown, found: JsonSecrets | undefined): ResultJudgement {
    // The texts are every string of the answer: walked only when a rule's regex reads them.
    const texts = rules.some((r) => r.content?.regex !== undefined) ? resultTexts(result) : [];
    const seen: ToolCallFacts = { ...facts, content: { texts, secrets: found?.spans } };
    const matched = rules.filter((rule) => ruleMatches(rule, seen));
    let best: RuleConfig | undefined;
    for (const rule of matched) if (!best || SEVERITY[rule.decision] > SEVERITY[best.decision]) best = rule;
    if (!best) return { verdict: { decision: 'allow', ruleId: null, reason: 'no rule matched' } };
    const verdict: ResultVerdict = { decision: best.decision as ResultDecision, ruleId: best.id, reason: ruleReason(best, seen) };
    if (verdict.decision !== 'redact') return { verdict };
    const redactRules = matched.filter((r) => r.decision === 'redact');
    const redacted = redactResult(result, redactRules, found);
    const missed = redactRules.find(
      (r) => r.content?.regex !== undefined && stillMatches(redacted.result, r.content.regex, r.content.flags),
    );
    if (missed) {
      const reason = `${ruleReason(missed, seen)}; a match is where it cannot be redacted (only content texts, embedded resource texts and structuredContent can be), so the answer is refused`;
      return { verdict: { decision: 'block', ruleId: missed.id, reason } };
    }
    return { verdict, redacted };
  }
}
