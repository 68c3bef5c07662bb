/**
 * The `content` condition of rules: `secrets` and `regex` on a ContentSubject (arguments' string
 * values, or a result's content[].text), checked at config load, explained by `rules test`.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../lib/config/load-config.js';
import type { RuleConfig } from '../../lib/config/types.js';
import { argumentTexts, resultTexts } from '../../lib/policy/content-matcher.js';
import { explainRules } from '../../lib/policy/explain.js';
import { evaluateRules, type ToolCallFacts } from '../../lib/policy/rules.js';

const facts = (args: Record<string, unknown>, content?: ToolCallFacts['content']): ToolCallFacts => ({
  tool: 't',
  serverName: 's',
  environment: 'development',
  arguments: args,
  annotations: undefined,
  ...(content ? { content } : {}),
});
const decide = (rule: Omit<RuleConfig, 'id' | 'decision'>, f: ToolCallFacts) =>
  evaluateRules({ rules: [{ id: 'r', decision: 'block', ...rule }] }, f).decision;

function problems(rule: unknown): string[] {
  try {
    validateConfig({ agentKey: 'a', upstream: { command: 'x' }, guardrails: { rules: [rule] } }, 'c.json');
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('content matcher', () => {
  it('regex tests every string value of the arguments, at any depth, and not the keys', () => {
    const rule = { content: { regex: 'drop\\s+table', flags: 'i' } };
    expect(decide(rule, facts({ q: { deep: ['x', 'DROP  TABLE users'] } }))).toBe('block');
    expect(decide(rule, facts({ 'drop table': 'fine' }))).toBe('allow');
    expect(argumentTexts({ a: 'x', b: [1, 'y', { c: 'z' }], d: null })).toEqual(['x', 'y', 'z']);
  });

  it("reads every string of a result, not only content[].text: structuredContent, resource texts, an error's message", () => {
    const result = {
      content: [
        { type: 'text', text: 'one' },
        { type: 'resource', resource: { uri: 'file:///a', text: 'two' } },
      ],
      structuredContent: { note: 'three', n: 4 },
    };
    expect(resultTexts(result)).toEqual(['one', 'file:///a', 'two', 'three']); // not the items' type
    expect(resultTexts({ code: -32000, message: 'four', data: { detail: 'five' } })).toEqual(['four', 'five']);
    expect(decide({ content: { regex: '^two$' } }, facts({}, { texts: resultTexts(result), secrets: [] }))).toBe('block');
  });

  it('secrets matches when the subject holds a secret, and when it was never scanned (refuse rather than guess)', () => {
    const rule = { content: { secrets: true as const } };
    expect(decide(rule, facts({}, { texts: [], secrets: [{ ruleId: 'github', start: 1, end: 5 }] }))).toBe('block');
    expect(decide(rule, facts({}, { texts: [], secrets: [] }))).toBe('allow');
    expect(decide(rule, facts({ a: 'b' }))).toBe('block');
  });

  it('rules test shows what a content condition saw, never a value', () => {
    const rules: RuleConfig[] = [{ id: 'no-secrets', content: { secrets: true }, decision: 'block' }];
    const hit = explainRules({ rules }, facts({ t: 'x' }, { texts: ['x'], secrets: [{ ruleId: 'github', start: 0, end: 1 }] }));
    expect(hit.rules[0]!.why).toEqual([
      'matched rule "no-secrets"',
      'content {"secrets":true} matched: 1 text(s), secrets found by github',
    ]);
    const miss = explainRules({ rules }, facts({ t: 'x' }, { texts: ['x'], secrets: [] }));
    expect(miss.rules[0]!.why).toEqual(['content {"secrets":true} does not match: 1 text(s), no secret found']);
  });

  it('is checked at config load: one kind, valid regex and flags, secrets only true', () => {
    expect(problems({ id: 'r', decision: 'block', content: { regex: '(' } })[0]).toMatch(
      /^guardrails\.rules\[0\]\.content\.regex: is not a valid regular expression/,
    );
    expect(problems({ id: 'r', decision: 'block', content: { regex: 'a', flags: 'g' } })[0]).toMatch(
      /^guardrails\.rules\[0\]\.content\.flags: "g" and "y" are not allowed/,
    );
    expect(problems({ id: 'r', decision: 'block', content: { secrets: true, regex: 'a' } })).toEqual([
      'guardrails.rules[0].content: must have exactly one of "secrets" and "regex" (it has both: use two rules)',
    ]);
    expect(problems({ id: 'r', decision: 'block', content: { flags: 'i' } })).toEqual([
      'guardrails.rules[0].content: must have exactly one of "secrets" and "regex"',
    ]);
    expect(problems({ id: 'r', decision: 'block', content: { secrets: false } }).join('\n')).toMatch(/content\.secrets/);
    expect(problems({ id: 'r', decision: 'block', content: { regex: 'ok', flags: 'i' } })).toEqual([]);
  });

  it('refuses a secrets.disabledRules name that is not a rule, listing the rules', () => {
    let message = '';
    try {
      validateConfig({ agentKey: 'a', upstream: { command: 'x' }, secrets: { disabledRules: ['aws', 'awz'] } }, 'c.json');
    } catch (err) {
      message = (err as ConfigError).problems.join('\n');
    }
    expect(message).toMatch(/^secrets\.disabledRules: "awz" is not a detector rule; the rules are: aws, gcp, .*jwt$/);
  });
});
