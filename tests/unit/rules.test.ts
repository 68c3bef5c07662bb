import { describe, expect, it } from 'vitest';
import type { GuardrailsConfig } from '../../lib/config/types.js';
import { evaluateWithDeadline, type GuardRequest } from '../../lib/policy/policy-hook.js';
import { evaluateRules, type ToolCallFacts } from '../../lib/policy/rules.js';

const facts = (over: Partial<ToolCallFacts> = {}): ToolCallFacts => ({
  tool: 'read_file',
  serverName: 'filesystem',
  environment: 'development',
  arguments: {},
  annotations: undefined,
  ...over,
});

const decide = (rules: GuardrailsConfig['rules'], f: Partial<ToolCallFacts> = {}) => evaluateRules({ rules }, facts(f));

describe('guardrail rules', () => {
  it('allows when no rule matches', () => {
    expect(decide([{ id: 'x', tool: 'exec', decision: 'block' }])).toEqual({ decision: 'allow', ruleId: null, reason: 'no rule matched' });
  });

  it('matches globs against the bare and the namespaced tool name', () => {
    expect(decide([{ id: 'a', tool: 'read_*', decision: 'block' }]).ruleId).toBe('a');
    expect(decide([{ id: 'b', tool: 'filesystem.read_file', decision: 'block' }]).ruleId).toBe('b');
    expect(decide([{ id: 'c', tool: ['github.*', 'filesystem.re?d_file'], decision: 'block' }]).ruleId).toBe('c');
    expect(decide([{ id: 'd', tool: 'github.read_file', decision: 'block' }]).decision).toBe('allow');
  });

  it('matches arguments by regex, equals, glob, exists and dotted path', () => {
    const args = { path: '/etc/passwd', options: { recursive: true, depth: 3 } };
    expect(decide([{ id: 'r', args: { path: { regex: '^/etc/' } }, decision: 'block' }], { arguments: args }).ruleId).toBe('r');
    expect(decide([{ id: 'e', args: { 'options.depth': { equals: 3 } }, decision: 'block' }], { arguments: args }).ruleId).toBe('e');
    expect(decide([{ id: 'g', args: { path: { glob: '/etc/*' } }, decision: 'block' }], { arguments: args }).ruleId).toBe('g');
    expect(decide([{ id: 'x', args: { 'options.recursive': { exists: true } }, decision: 'block' }], { arguments: args }).ruleId).toBe('x');
    expect(decide([{ id: 'n', args: { token: { exists: false } }, decision: 'block' }], { arguments: args }).ruleId).toBe('n');
    expect(decide([{ id: 'm', args: { path: { regex: '^/home/' } }, decision: 'block' }], { arguments: args }).decision).toBe('allow');
    expect(decide([{ id: 'o', args: { missing: { regex: '.*' } }, decision: 'block' }], { arguments: args }).decision).toBe('allow');
  });

  it('matches annotations from the last tools/list and the environment', () => {
    const rule = { id: 'd', annotations: { destructiveHint: true }, decision: 'require_approval' as const };
    expect(decide([rule], { annotations: { destructiveHint: true } }).decision).toBe('require_approval');
    expect(decide([rule], { annotations: undefined }).decision).toBe('allow');
    const prod = { id: 'p', environment: ['production', 'staging'], decision: 'block' as const };
    expect(decide([prod], { environment: 'production' }).decision).toBe('block');
    expect(decide([prod]).decision).toBe('allow');
  });

  it('matches a tool whose annotations are unknown with annotation rules that block or ask, never with allow or warn', () => {
    const unknown = { toolUnknown: true, annotations: undefined };
    expect(decide([{ id: 'd', annotations: { destructiveHint: true }, decision: 'block' }], unknown)).toEqual({
      decision: 'block',
      ruleId: 'd',
      reason: 'matched rule "d" (tool "read_file" was never listed: its annotations are unknown)',
    });
    expect(decide([{ id: 'a', annotations: { readOnlyHint: true }, decision: 'require_approval' }], unknown).decision).toBe(
      'require_approval',
    );
    expect(
      decide(
        [
          { id: 'ro', annotations: { readOnlyHint: true }, decision: 'allow' },
          { id: 'w', annotations: { readOnlyHint: true }, decision: 'warn' },
        ],
        unknown,
      ).ruleId,
    ).toBeNull();
    expect(decide([{ template: 'block_destructive_tools' }], unknown)).toMatchObject({
      decision: 'block',
      ruleId: 'block_destructive_tools',
    });
    expect(decide([{ template: 'block_destructive_tools', decision: 'warn' }], unknown).decision).toBe('allow');
    expect(decide([{ template: 'block_destructive_tools' }], { annotations: {} }).decision).toBe('allow');
  });

  it('lets the most restrictive decision win, and the first listed among equals', () => {
    const rules: GuardrailsConfig['rules'] = [
      { id: 'w', decision: 'warn' },
      { id: 'a1', decision: 'require_approval' },
      { id: 'a2', decision: 'require_approval' },
      { id: 'ok', decision: 'allow' },
    ];
    expect(decide(rules).ruleId).toBe('a1');
    expect(decide([...rules, { id: 'b', tool: 'read_file', decision: 'block' }]).ruleId).toBe('b');
  });

  it('applies the templates', () => {
    expect(decide([{ template: 'block_destructive_tools' }], { annotations: { destructiveHint: true } }).decision).toBe('block');
    expect(decide([{ template: 'block_destructive_tools' }], { annotations: { destructiveHint: true, readOnlyHint: true } }).decision).toBe(
      'allow',
    );
    expect(decide([{ template: 'require_approval_unknown_mcp_tools' }], { inBoundary: false }).decision).toBe('require_approval');
    expect(decide([{ template: 'require_approval_unknown_mcp_tools' }], { inBoundary: true }).decision).toBe('allow');
    expect(decide([{ template: 'block_changed_tool_definitions' }], { definitionChanged: true }).decision).toBe('block');
    expect(decide([{ template: 'block_changed_tool_definitions' }], { definitionChanged: false }).decision).toBe('allow');
  });

  it('lets a template carry its own decision', () => {
    const rules: GuardrailsConfig['rules'] = [{ template: 'block_changed_tool_definitions', decision: 'require_approval' }];
    expect(decide(rules, { definitionChanged: true })).toMatchObject({
      decision: 'require_approval',
      ruleId: 'block_changed_tool_definitions',
    });
  });

  it('leaves the store-backed templates alone when the facts do not say (no store to ask)', () => {
    expect(decide([{ template: 'require_approval_unknown_mcp_tools' }, { template: 'block_changed_tool_definitions' }]).decision).toBe(
      'allow',
    );
  });
});

describe('guard failure modes', () => {
  const request = (): GuardRequest => ({ agentKey: 'a', environment: 'development', serverName: 's', tool: 't', arguments: {} });
  const slowHook = { evaluate: () => new Promise<never>(() => undefined) };
  it('fail_closed blocks with "control plane unavailable" when the hook is late', async () => {
    const v = await evaluateWithDeadline(slowHook, request(), 20, 'fail_closed');
    expect(v).toMatchObject({ decision: 'block', reason: 'control plane unavailable' });
    expect(v.failure).toMatch(/guardTimeoutMs/);
  });
  it('fail_open allows and says why when the hook throws', async () => {
    const v = await evaluateWithDeadline(
      {
        evaluate: () => {
          throw new Error('boom');
        },
      },
      request(),
      20,
      'fail_open',
    );
    expect(v).toMatchObject({ decision: 'allow', failure: 'boom' });
  });
  it('answers synchronously for a synchronous hook, so the call keeps its place in the stream', () => {
    const v = evaluateWithDeadline({ evaluate: () => ({ decision: 'allow' }) }, request(), 20, 'fail_closed');
    expect(v).not.toBeInstanceOf(Promise);
  });
});
