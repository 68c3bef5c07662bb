/**
 * The result phase's decisions (lib/policy/result-rules.ts): which tools' answers are read, the
 * decision order among result rules (block > redact > warn > allow), what redact replaces, and that
 * call-phase evaluation never sees a result rule.
 */
import { describe, expect, it } from 'vitest';
import type { RuleConfig } from '../../lib/config/types.js';
import { explainRules } from '../../lib/policy/explain.js';
import { ResultRules } from '../../lib/policy/result-rules.js';
import { evaluateRules, type ToolCallFacts } from '../../lib/policy/rules.js';
import { secretFinder } from '../../lib/secrets/find-secrets.js';
import { FAKE } from '../helpers/fake-secrets.js';

const facts = (tool: string, args: Record<string, unknown> = {}): ToolCallFacts => ({
  tool,
  serverName: 's',
  environment: 'development',
  arguments: args,
  annotations: undefined,
});
const rules = (...r: RuleConfig[]) => new ResultRules({ rules: r }, 's', 'development', secretFinder());
const text = (t: string, extra: Record<string, unknown> = {}) => ({ content: [{ type: 'text', text: t }], ...extra });

describe('result rules', () => {
  it('read only the answers of tools a result rule names, in its environment', () => {
    const r = rules({ id: 'r', on: 'result', tool: 'read_*', environment: 'development', decision: 'block' });
    expect([r.judges('read_file'), r.judges('s.read_file'), r.judges('write_file')]).toEqual([true, false, false]);
    expect(rules({ id: 'r', on: 'result', tool: 'read_*', environment: 'prod', decision: 'block' }).judges('read_file')).toBe(false);
    expect(rules({ id: 'c', tool: '*', decision: 'block' }).any).toBe(false);
  });

  it('are not part of the call decision, and rules test says why they did not match', () => {
    const guardrails = { rules: [{ id: 'r', on: 'result' as const, tool: 'x', decision: 'block' as const }] };
    expect(evaluateRules(guardrails, facts('x'))).toEqual({ decision: 'allow', ruleId: null, reason: 'no rule matched' });
    expect(explainRules(guardrails, facts('x')).rules).toEqual([
      {
        id: 'r',
        kind: 'rule',
        decision: 'block',
        matched: false,
        decided: false,
        why: ['a result-phase rule ("on": "result"): it judges the upstream\'s answer, which this test does not have'],
      },
    ]);
  });

  it('let block win over redact over warn, and the first listed win a tie', async () => {
    const r = rules(
      { id: 'w', on: 'result', decision: 'warn' },
      { id: 'red1', on: 'result', content: { regex: 'x' }, decision: 'redact' },
      { id: 'red2', on: 'result', content: { regex: 'y' }, decision: 'redact' },
      { id: 'b', on: 'result', args: { path: { under: '/etc' } }, decision: 'block' },
    );
    expect((await r.judge(facts('t'), text('x y'))).verdict.ruleId).toBe('red1');
    expect((await r.judge(facts('t', { path: '/etc/passwd' }), text('x y'))).verdict.decision).toBe('block');
    expect((await r.judge(facts('t'), text('z'))).verdict).toEqual({ decision: 'warn', ruleId: 'w', reason: 'matched rule "w"' });
  });

  it('redact every match of every matching redact rule, in content texts and structuredContent', async () => {
    const r = rules(
      { id: 'mail', on: 'result', content: { regex: '[a-z]+@example\\.com' }, decision: 'redact' },
      { id: 'keys', on: 'result', content: { secrets: true }, decision: 'redact' },
    );
    const judged = await r.judge(
      facts('t'),
      text(`a@example.com b@example.com ${FAKE.github}`, { structuredContent: { to: 'a@example.com', n: 1 } }),
    );
    expect(judged.redacted).toEqual({
      result: text('[REDACTED:mail] [REDACTED:mail] [REDACTED:github]', { structuredContent: { to: '[REDACTED:mail]', n: 1 } }),
      redactions: 4,
    });
    expect(JSON.stringify(judged)).not.toContain(FAKE.github);
  });

  it('match content.regex and content.secrets anywhere in the result: structuredContent, resource texts, _meta', async () => {
    const r = rules(
      { id: 'k', on: 'result', content: { secrets: true }, decision: 'block' },
      { id: 'm', on: 'result', content: { regex: 'hidden' }, decision: 'warn' },
    );
    expect((await r.judge(facts('t'), { content: [], structuredContent: { dsn: FAKE.postgres } })).verdict.ruleId).toBe('k');
    expect((await r.judge(facts('t'), { content: [], structuredContent: { note: 'hidden' } })).verdict.ruleId).toBe('m');
    const resource = { content: [{ type: 'resource', resource: { uri: 'file:///x', text: 'is hidden here' } }] };
    expect((await r.judge(facts('t'), resource)).verdict.ruleId).toBe('m');
    expect((await r.judge(facts('t'), { content: [], _meta: { x: 'hidden' } })).verdict.ruleId).toBe('m');
  });

  it('redact an embedded resource text; refuse the answer when a match is where nothing can be redacted', async () => {
    const r = rules({ id: 'mail', on: 'result', content: { regex: '[a-z]+@example\\.com' }, decision: 'redact' });
    const resource = { content: [{ type: 'resource', resource: { uri: 'file:///x', text: 'to a@example.com' } }] };
    expect((await r.judge(facts('t'), resource)).redacted?.result).toEqual({
      content: [{ type: 'resource', resource: { uri: 'file:///x', text: 'to [REDACTED:mail]' } }],
    });
    const inMeta = await r.judge(facts('t'), { ...text('ok'), _meta: { from: 'a@example.com' } });
    expect(inMeta.verdict).toMatchObject({ decision: 'block', ruleId: 'mail', reason: expect.stringContaining('cannot be redacted') });
    expect(inMeta.redacted).toBeUndefined();
    const error = await r.judge(facts('t'), { code: -32000, message: 'no mail for b@example.com' });
    expect(error.verdict).toMatchObject({ decision: 'block', ruleId: 'mail' });
  });
});
