/**
 * Argument conditions as the upstream will read the arguments: `under`/`notUnder` on normalised
 * paths, wildcard argument paths, values of every JSON type (never failing open), regex flags.
 * Driven through evaluateRules, as the proxy uses them.
 */
import { describe, expect, it } from 'vitest';
import type { ArgMatcher } from '../../lib/config/types.js';
import { evaluateRules } from '../../lib/policy/rules.js';

/** Whether a block rule with these `args` matches a call with these arguments. */
function blocks(args: Record<string, ArgMatcher>, call: Record<string, unknown>): boolean {
  const facts = { tool: 't', serverName: 's', environment: 'development', arguments: call, annotations: undefined };
  return evaluateRules({ rules: [{ id: 'r', args, decision: 'block' }] }, facts).decision === 'block';
}

describe('under and notUnder', () => {
  const etc = { path: { under: '/etc' } };

  it('compares normalised paths: ".." and "." resolved, "//" collapsed, a trailing slash ignored', () => {
    for (const path of [
      '/etc',
      '/etc/',
      '/etc/passwd',
      '//etc/passwd',
      '/etc//passwd',
      '/./etc/passwd',
      '/tmp/x/../../etc/passwd',
      '/../etc/shadow',
      '/tmp/../etc',
    ]) {
      expect(blocks(etc, { path }), path).toBe(true);
    }
    expect(blocks({ path: { under: '/tmp/x/private' } }, { path: '/tmp/x/sub/../private/key' })).toBe(true);
    for (const path of ['/etcetera', '/etc.d/x', '/tmp/etc/passwd', '/etc/../tmp/x', '/', '/tmp']) {
      expect(blocks(etc, { path }), path).toBe(false);
    }
  });

  it('normalises the configured folder too', () => {
    expect(blocks({ path: { under: '/etc/' } }, { path: '/etc/passwd' })).toBe(true);
    expect(blocks({ path: { under: '/srv/../etc' } }, { path: '/etc/passwd' })).toBe(true);
    expect(blocks({ path: { under: '/' } }, { path: '/anything' })).toBe(true);
  });

  it('resolves a relative path against "base", and refuses it (matches) without one', () => {
    expect(blocks({ path: { under: '/etc', base: '/srv/app' } }, { path: '../../etc/passwd' })).toBe(true);
    expect(blocks({ path: { under: '/etc', base: '/srv/app' } }, { path: 'notes.txt' })).toBe(false);
    expect(blocks({ path: { under: '/etc', base: '/srv/app' } }, { path: '' })).toBe(false);
    expect(blocks(etc, { path: 'notes.txt' })).toBe(true);
    expect(blocks({ path: { notUnder: '/srv' } }, { path: 'notes.txt' })).toBe(true);
    expect(blocks({ path: { notUnder: '/srv', base: '/srv/app' } }, { path: 'notes.txt' })).toBe(false);
    expect(blocks({ path: { notUnder: '/srv', base: '/srv/app' } }, { path: '../../etc/passwd' })).toBe(true);
  });

  it('refuses (matches, with either matcher) a text the upstream could read another way', () => {
    const texts = [
      '~/.ssh/id_rsa',
      'file:///etc/passwd',
      'C:/Windows',
      'C:\\Windows',
      '/srv/ok\\..\\..\\etc',
      '/srv/%2e%2e/etc/passwd',
      '/srv/ok\0/etc/passwd',
    ];
    for (const path of texts) {
      expect(blocks({ path: { under: '/etc', base: '/srv' } }, { path }), path).toBe(true);
      expect(blocks({ path: { notUnder: '/srv', base: '/srv' } }, { path }), path).toBe(true);
    }
  });

  it('matches notUnder for a path outside the folder only', () => {
    const srv = { path: { notUnder: '/srv/data' } };
    expect(blocks(srv, { path: '/srv/data' })).toBe(false);
    expect(blocks(srv, { path: '/srv/data/a/b' })).toBe(false);
    expect(blocks(srv, { path: '/srv/data/../secret' })).toBe(true);
    expect(blocks(srv, { path: '/srv/database' })).toBe(true);
    expect(blocks(srv, {})).toBe(false);
  });

  it('is case-sensitive unless caseInsensitive is set', () => {
    expect(blocks(etc, { path: '/ETC/passwd' })).toBe(false);
    expect(blocks({ path: { under: '/etc', caseInsensitive: true } }, { path: '/ETC/passwd' })).toBe(true);
    expect(blocks({ path: { under: '/Users/Me', caseInsensitive: true } }, { path: '/users/me/x' })).toBe(true);
    // NFC and NFD spellings of "é" are the same name on macOS.
    expect(blocks({ path: { under: '/caf\u00e9', caseInsensitive: true } }, { path: '/cafe\u0301/x' })).toBe(true);
  });
});

describe('values of every type', () => {
  it('tests every element of an array: any match matches (regex, glob, under), any outside matches notUnder', () => {
    const paths = ['/tmp/a', '/etc/shadow'];
    expect(blocks({ paths: { under: '/etc' } }, { paths })).toBe(true);
    expect(blocks({ paths: { regex: '^/etc/' } }, { paths })).toBe(true);
    expect(blocks({ paths: { glob: '/etc/*' } }, { paths })).toBe(true);
    expect(blocks({ paths: { notUnder: '/tmp' } }, { paths })).toBe(true);
    expect(blocks({ paths: { notUnder: '/tmp' } }, { paths: ['/tmp/a', '/tmp/b'] })).toBe(false);
    expect(blocks({ paths: { under: '/etc' } }, { paths: ['/tmp/a', ['/tmp/b', '/etc/x']] })).toBe(true);
    expect(blocks({ paths: { under: '/etc' } }, { paths: [] })).toBe(false);
  });

  it('tests numbers, booleans and null as their JSON text', () => {
    expect(blocks({ n: { regex: '^100$' } }, { n: 1e2 })).toBe(true);
    expect(blocks({ n: { glob: 'tru?' } }, { n: true })).toBe(true);
    expect(blocks({ n: { regex: '^null$' } }, { n: null })).toBe(true);
    expect(blocks({ n: { regex: '^7$' } }, { n: 8 })).toBe(false);
  });

  it('matches an object with regex, glob, under and notUnder: the upstream could read it in a way ratri cannot see', () => {
    const value = { toString: '/etc/passwd' };
    for (const matcher of [{ regex: '^/etc/' }, { glob: '/etc/*' }, { under: '/etc' }, { notUnder: '/tmp' }, { regex: 'never' }]) {
      expect(blocks({ path: matcher }, { path: value }), JSON.stringify(matcher)).toBe(true);
      expect(blocks({ path: matcher }, { path: ['/tmp/ok', value] }), JSON.stringify(matcher)).toBe(true);
    }
    expect(blocks({ path: { equals: 'x' } }, { path: value })).toBe(false);
  });

  it('never matches a missing argument, except exists: false', () => {
    for (const matcher of [{ regex: '.*' }, { glob: '*' }, { under: '/' }, { notUnder: '/x' }, { equals: null }, { exists: true }]) {
      expect(blocks({ path: matcher }, {}), JSON.stringify(matcher)).toBe(false);
    }
    expect(blocks({ path: { exists: false } }, {})).toBe(true);
  });

  it('refuses (matches) an array nested deeper than it looks', () => {
    let deep: unknown = '/tmp/ok';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(blocks({ path: { under: '/etc' } }, { path: deep })).toBe(true);
    expect(blocks({ '**': { under: '/etc' } }, { path: deep })).toBe(true);
  });
});

describe('argument paths', () => {
  it('"*" reaches every top-level argument, and "paths.*" every element', () => {
    expect(blocks({ '*': { under: '/etc' } }, { source: '/tmp/a', destination: '/etc/cron.d/x' })).toBe(true);
    expect(blocks({ '*': { under: '/etc' } }, { source: '/tmp/a', destination: '/tmp/b' })).toBe(false);
    expect(blocks({ '*': { under: '/etc' } }, { paths: ['/tmp/a', '/etc/x'] })).toBe(true);
    expect(blocks({ 'paths.*': { under: '/etc' } }, { paths: ['/tmp/a', '/etc/x'] })).toBe(true);
    expect(blocks({ 'paths.*': { under: '/etc' } }, { paths: ['/tmp/a'] })).toBe(false);
    expect(blocks({ 'edits.*.path': { under: '/etc' } }, { edits: [{ path: '/tmp' }, { path: '/etc/x' }] })).toBe(true);
  });

  it('"**" reaches any depth: "**.path" every "path" key, a trailing "**" every value that is not an object or array', () => {
    const call = { a: { b: [{ path: '/etc/x' }] } };
    expect(blocks({ '**.path': { under: '/etc' } }, call)).toBe(true);
    expect(blocks({ '**.path': { under: '/etc' } }, { path: '/etc/x' })).toBe(true);
    expect(blocks({ '**': { regex: 'secret' } }, { a: { b: ['x', { c: 'my secret' }] } })).toBe(true);
    expect(blocks({ '**': { regex: 'secret' } }, { a: { b: ['x', { c: 'public' }] } })).toBe(false);
    expect(blocks({ 'a.**': { under: '/etc' } }, call)).toBe(true);
  });

  it('defines exists with wildcards: true when the path reaches any value, false when it reaches none', () => {
    expect(blocks({ 'paths.*': { exists: true } }, { paths: ['x'] })).toBe(true);
    expect(blocks({ 'paths.*': { exists: true } }, { paths: [] })).toBe(false);
    expect(blocks({ 'paths.*': { exists: false } }, { paths: [] })).toBe(true);
    expect(blocks({ '**.token': { exists: true } }, { a: [{ token: null }] })).toBe(true);
  });

  it('reads both a dotted key and the nested value it spells, so one cannot hide the other', () => {
    const rule = { 'options.target': { under: '/etc' } };
    expect(blocks(rule, { 'options.target': '/tmp/ok', options: { target: '/etc/passwd' } })).toBe(true);
    expect(blocks(rule, { 'options.target': '/etc/passwd', options: { target: '/tmp/ok' } })).toBe(true);
    expect(blocks(rule, { 'options.target': '/tmp/ok', options: { target: '/tmp/ok' } })).toBe(false);
    expect(blocks({ 'options.target': { exists: false } }, { 'options.target': 1 })).toBe(false);
  });

  it('indexes arrays by number only', () => {
    expect(blocks({ 'files.1': { under: '/etc' } }, { files: ['/tmp', '/etc/x'] })).toBe(true);
    expect(blocks({ 'files.length': { exists: true } }, { files: ['/tmp'] })).toBe(false);
  });
});

describe('regex flags', () => {
  it('applies "i", and without it stays case-sensitive', () => {
    expect(blocks({ message: { regex: 'password', flags: 'i' } }, { message: 'my PassWord' })).toBe(true);
    expect(blocks({ message: { regex: 'password' } }, { message: 'my PassWord' })).toBe(false);
  });
});

describe('argument names as a Go server reads them', () => {
  it('matches a key in any case, at the top and nested, and through wildcards', () => {
    const etc = { path: { under: '/etc' } };
    for (const call of [{ Path: '/etc/passwd' }, { PATH: '/etc/passwd' }]) expect(blocks(etc, call), JSON.stringify(call)).toBe(true);
    expect(blocks({ paths: { under: '/etc' } }, { pathſ: '/etc/passwd' })).toBe(true); // the long s folds to s
    expect(blocks({ 'options.target': { under: '/etc' } }, { Options: { Target: '/etc/shadow' } })).toBe(true);
    expect(blocks({ 'options.target': { under: '/etc' } }, { 'OPTIONS.TARGET': '/etc/shadow' })).toBe(true);
    expect(blocks({ 'paths.*': { under: '/etc' } }, { Paths: ['/tmp/a', '/etc/shadow'] })).toBe(true);
    expect(blocks({ path: { exists: true } }, { PATH: 1 })).toBe(true);
    expect(blocks(etc, { Path: '/tmp/a' })).toBe(false);
  });
});
