/**
 * The result phase (docs/policy.md#phases-call-and-result): rules with `"on": "result"` judge the
 * upstream's answer to a `tools/call`. The most restrictive matching decision wins (block > redact >
 * warn > allow), ties go to the first listed, no match allows. Which tools a result rule can match is
 * known from its `tool` and `environment` alone, so answers to other tools are never read.
 */
import type { GuardrailsConfig, RuleConfig } from '../config/types.js';
import { isResultRule, ruleMatches, ruleReason, ruleScopeMatches, SEVERITY, type ToolCallFacts } from './rules.js';

export type ResultDecision = 'allow' | 'warn' | 'redact' | 'block';

export interface ResultVerdict {
  decision: ResultDecision;
  /** The deciding rule's id; null when no rule matched. */
  ruleId: string | null;
  reason: string;
}

export class ResultRules {
  private readonly rules: RuleConfig[];
  /** Whether some result rule can match a tool, by bare name (one server and environment per proxy). */
  private readonly scope = new Map<string, boolean>();

  constructor(
    guardrails: GuardrailsConfig,
    private readonly serverName: string,
    private readonly environment: string,
  ) {
    this.rules = guardrails.rules.filter(isResultRule) as RuleConfig[];
  }

  /** False when the config has no result rule: then no answer is ever read for them. */
  get any(): boolean {
    return this.rules.length > 0;
  }

  /** Whether an answer to a call of this tool is judged (only those are read). */
  judges(tool: string): boolean {
    let known = this.scope.get(tool);
    if (known === undefined) {
      const facts = { tool, serverName: this.serverName, environment: this.environment };
      known = this.rules.some((rule) => ruleScopeMatches(rule, facts));
      this.scope.set(tool, known);
    }
    return known;
  }

  /** The decision for one answer: `result` is the answer's `result` member, as the host will read it. */
  judge(facts: ToolCallFacts, _result: unknown): ResultVerdict {
    let best: { rule: RuleConfig; verdict: ResultVerdict } | undefined;
    for (const rule of this.rules) {
      if (!ruleMatches(rule, facts)) continue;
      const decision = rule.decision as ResultDecision;
      if (best && SEVERITY[decision] <= SEVERITY[best.verdict.decision]) continue;
      best = { rule, verdict: { decision, ruleId: rule.id, reason: ruleReason(rule, facts) } };
    }
    return best?.verdict ?? { decision: 'allow', ruleId: null, reason: 'no rule matched' };
  }
}
