/** Which arguments the doctor takes a tool to accept, from its inputSchema (docs/doctor.md, check 5). */
import { describe, expect, it } from 'vitest';
import type { RuleConfig } from '../../lib/config/types.js';
import { argumentsNotTaken, declaredArguments } from '../../lib/doctor/declared-arguments.js';

const tool = (inputSchema: unknown) => ({ name: 't', inputSchema });
const rule = (args: RuleConfig['args']): RuleConfig => ({ id: 'r', decision: 'block', args });

describe('declared arguments', () => {
  it('reads the names of properties; a schema without properties declares none', () => {
    expect(declaredArguments(tool({ type: 'object', properties: { path: {}, tail: {} } }))).toEqual(['path', 'tail']);
    expect(declaredArguments(tool({ type: 'object', properties: { path: {} }, additionalProperties: false }))).toEqual(['path']);
    expect(declaredArguments(tool({ type: 'object' }))).toEqual([]);
  });

  it('cannot tell (any name) without a schema, with additionalProperties, or with keywords that add names', () => {
    expect(declaredArguments(tool(undefined))).toBeUndefined();
    expect(declaredArguments(tool({ type: 'object', properties: {}, additionalProperties: true }))).toBeUndefined();
    expect(declaredArguments(tool({ type: 'object', additionalProperties: { type: 'string' } }))).toBeUndefined();
    expect(declaredArguments(tool({ type: 'object', properties: {}, patternProperties: { '^x': {} } }))).toBeUndefined();
    expect(declaredArguments(tool({ type: 'object', anyOf: [{ properties: { path: {} } }] }))).toBeUndefined();
  });

  it('names the rule arguments a tool does not take, by their first segment, never exists: false', () => {
    const schema = tool({ type: 'object', properties: { path: {}, options: {} } });
    expect(argumentsNotTaken(rule({ path: { under: '/etc' }, paht: { under: '/etc' }, 'options.x': { equals: 1 } }), schema)).toEqual([
      'paht',
    ]);
    expect(argumentsNotTaken(rule({ token: { exists: false } }), schema)).toEqual([]);
    expect(argumentsNotTaken(rule({ '*': { under: '/etc' }, '**.x': { exists: true } }), schema)).toEqual([]);
    expect(argumentsNotTaken(rule({ '*': { under: '/etc' } }), tool({ type: 'object', properties: {} }))).toEqual(['*']);
    expect(argumentsNotTaken(rule({ paht: { under: '/etc' } }), tool(undefined))).toEqual([]);
  });
});
