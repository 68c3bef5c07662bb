import { describe, expect, it } from 'vitest';
import { ConfigError, resolveProxyConfig, validateConfig } from '../../lib/config/load-config.js';
import type { ConfigFile } from '../../lib/config/types.js';

function problems(value: unknown): string[] {
  try {
    validateConfig(value, 'test.json');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const upstream = { command: 'node', args: ['server.js'] };

describe('config validation', () => {
  it('accepts a minimal config', () => {
    expect(problems({ agentKey: 'a', upstream })).toEqual([]);
  });

  it('needs an upstream, unless the config only names a control plane (ratri serve)', () => {
    const rulesOnly = { agentKey: 'a', guardrails: { rules: [{ id: 'r', tool: 'x', decision: 'block' }] } };
    expect(problems(rulesOnly)).toEqual(['upstream: is required (or a "servers" map with one entry per upstream server)']);
    expect(validateConfig(rulesOnly, 'serve.json', { controlPlaneOnly: true })).toEqual(rulesOnly);
    expect(() => validateConfig({ ...rulesOnly, upstream, servers: {} }, 'serve.json', { controlPlaneOnly: true })).toThrow(
      /set either "upstream" or "servers", not both/,
    );
  });

  it('reports every problem at once, each with its JSON path', () => {
    const found = problems({
      mode: 'enforcing',
      servers: { github: { upstream: { args: [] } } },
      guardrails: { rules: [{ id: 'x', decision: 'deny', args: { path: { regex: '(' } } }] },
      redactKey: ['x'],
      maxFrameBytes: 10,
    });
    expect(found).toEqual(
      expect.arrayContaining([
        'agentKey: is required',
        'mode: must be one of "monitor", "enforce"',
        'servers.github.upstream.command: is required',
        'guardrails.rules[0].decision: must be one of "allow", "warn", "block", "require_approval", "redact"',
        expect.stringMatching(/^redactKey: unknown field/),
        'maxFrameBytes: must be at least 1024',
        expect.stringMatching(/^guardrails\.rules\[0\]\.args\.path\.regex: is not a valid regular expression/),
      ]),
    );
  });

  it('checks approvals: progress interval, grant window and the webhook, each by its path', () => {
    const webhook = { url: 'https://hooks.example.com/x', headers: { authorization: 'Bearer k' }, format: 'slack', timeoutMs: 500 };
    expect(problems({ agentKey: 'a', upstream, approvals: { progressIntervalMs: 0, grantWindowMs: 60_000, webhook } })).toEqual([]);
    expect(
      problems({
        agentKey: 'a',
        upstream,
        approvals: { progressIntervalMs: -1, grantWindow: 5, webhook: { url: 'ftp://x', format: 'discord', timeoutMs: 0 } },
      }),
    ).toEqual(
      expect.arrayContaining([
        'approvals.progressIntervalMs: must be at least 0',
        expect.stringMatching(/^approvals\.grantWindow: unknown field/),
        'approvals.webhook.url: must start with http:// or https://',
        'approvals.webhook.format: must be one of "json", "slack", "teams"',
        'approvals.webhook.timeoutMs: must be at least 1',
      ]),
    );
    expect(problems({ agentKey: 'a', upstream, approvals: { webhook: {} } })).toEqual(['approvals.webhook.url: is required']);
  });

  it('checks telemetry.otlp (docs/opentelemetry.md), each field by its path', () => {
    const otlp = {
      endpoint: 'http://localhost:4318',
      headers: { authorization: 'Bearer k' },
      protocol: 'http/json',
      includeArguments: true,
    };
    expect(problems({ agentKey: 'a', upstream, telemetry: { otlp } })).toEqual([]);
    expect(
      problems({
        agentKey: 'a',
        upstream,
        telemetry: { otlp: { endpoint: 'localhost:4318', protocol: 'grpc', headers: { a: 1 }, includeArguments: 'yes', x: 1 } },
      }),
    ).toEqual(
      expect.arrayContaining([
        'telemetry.otlp.endpoint: must start with http:// or https://',
        'telemetry.otlp.protocol: must be one of "http/protobuf", "http/json"',
        'telemetry.otlp.headers.a: must be string',
        'telemetry.otlp.includeArguments: must be boolean',
        expect.stringMatching(/^telemetry\.otlp\.x: unknown field/),
      ]),
    );
    expect(problems({ agentKey: 'a', upstream, telemetry: { otlp: {} } })).toEqual(['telemetry.otlp.endpoint: is required']);
  });

  it('requires exactly one of upstream or servers', () => {
    expect(problems({ agentKey: 'a' })).toEqual([expect.stringMatching(/^upstream: is required/)]);
    expect(problems({ agentKey: 'a', upstream, servers: { x: { upstream } } })).toEqual([
      '(top level): set either "upstream" or "servers", not both',
    ]);
  });

  it('rejects a misspelt field inside a rule instead of silently ignoring it', () => {
    expect(problems({ agentKey: 'a', upstream, guardrails: { rules: [{ id: 'x', tools: 'exec', decision: 'block' }] } })).toEqual([
      expect.stringMatching(/^guardrails\.rules\[0\]\.tools: unknown field/),
    ]);
  });

  it('fits each decision to its phase, naming the fix', () => {
    const rules = (...r: unknown[]): string[] => problems({ agentKey: 'a', upstream, guardrails: { rules: r } });
    expect(rules({ id: 'r', decision: 'redact' })).toEqual([
      'guardrails.rules[0].decision: "redact" replaces values in the upstream\'s answer, so it is only for result rules: add "on": "result", or decide "block"',
    ]);
    expect(rules({ id: 'r', on: 'result', decision: 'require_approval' })).toEqual([
      'guardrails.rules[0].decision: "require_approval" cannot hold an answer the upstream already gave: on a result rule use "block", "redact", "warn" or "allow", or judge the call ("on": "call")',
    ]);
    expect(rules({ id: 'r', on: 'result', tool: 'x', decision: 'block' }, { id: 'c', on: 'call', decision: 'warn' })).toEqual([]);
    expect(rules({ id: 'r', on: 'reply', decision: 'block' })).toEqual(['guardrails.rules[0].on: must be one of "call", "result"']);
  });

  it('takes refusal and hideBlockedTools, at the top level and per server', () => {
    expect(problems({ agentKey: 'a', upstream, refusal: 'result', hideBlockedTools: true })).toEqual([]);
    expect(problems({ agentKey: 'a', servers: { s: { upstream, refusal: 'error', hideBlockedTools: false } } })).toEqual([]);
    expect(problems({ agentKey: 'a', upstream, refusal: 'text' })).toEqual(['refusal: must be one of "error", "result"']);
  });
});

describe('argument matchers in rules', () => {
  const ruleProblems = (args: Record<string, unknown>): string[] =>
    problems({ agentKey: 'a', upstream, guardrails: { rules: [{ id: 'x', decision: 'block', args }] } });

  it('accepts every matcher with its options', () => {
    expect(
      ruleProblems({
        path: { under: '/etc', base: '/srv', caseInsensitive: true },
        'paths.*': { notUnder: '/srv' },
        '**.url': { regex: '^http:', flags: 'iu' },
        '*': { glob: '*.pem' },
        recursive: { equals: true },
        token: { exists: false },
      }),
    ).toEqual([]);
  });

  it('names flags as the fix for inline (?i), and refuses stateful or unknown flags', () => {
    expect(ruleProblems({ path: { regex: '(?i)^/etc/' } })).toEqual([
      'guardrails.rules[0].args.path.regex: inline flags "(?i)" are not JavaScript syntax: remove them and set "flags": "i"',
    ]);
    expect(ruleProblems({ path: { regex: 'x', flags: 'g' } })).toEqual([
      expect.stringMatching(/^guardrails\.rules\[0\]\.args\.path\.flags: "g" and "y" are not allowed/),
    ]);
    expect(ruleProblems({ path: { regex: 'x', flags: 'x' } })).toEqual([
      'guardrails.rules[0].args.path.flags: "x" may only use i, m, s and u',
    ]);
    expect(ruleProblems({ path: { regex: 'x', flags: 'ii' } })).toEqual([
      expect.stringMatching(/^guardrails\.rules\[0\]\.args\.path\.regex: is not a valid regular expression/),
    ]);
  });

  it('needs exactly one matcher, and options next to the matcher they belong to', () => {
    expect(ruleProblems({ path: { regex: 'x', glob: 'y' } })).toEqual([
      'guardrails.rules[0].args.path: must have exactly one of regex, glob, equals, exists, under, notUnder (it has regex and glob)',
    ]);
    expect(ruleProblems({ path: { flags: 'i', glob: 'y' } })).toEqual(['guardrails.rules[0].args.path.flags: only works with "regex"']);
    expect(ruleProblems({ path: { base: '/srv' } })).toEqual([
      'guardrails.rules[0].args.path: must have exactly one of regex, glob, equals, exists, under, notUnder',
      'guardrails.rules[0].args.path.base: only works with "under" or "notUnder"',
    ]);
    expect(ruleProblems({ path: { under: '/etc', oops: 1 } })).toEqual([
      expect.stringMatching(/^guardrails\.rules\[0\]\.args\.path\.oops: unknown field/),
    ]);
  });

  it('needs absolute folders in under, notUnder and base', () => {
    expect(ruleProblems({ path: { under: 'etc' }, p2: { notUnder: '~/x' }, p3: { under: '/etc', base: './srv' } })).toEqual([
      'guardrails.rules[0].args.path.under: must be an absolute path starting with "/" (nothing in it is expanded, not even "~")',
      'guardrails.rules[0].args.p2.notUnder: must be an absolute path starting with "/" (nothing in it is expanded, not even "~")',
      'guardrails.rules[0].args.p3.base: must be an absolute path starting with "/" (nothing in it is expanded, not even "~")',
    ]);
    expect(ruleProblems({ path: { under: 'C:\\' } })).toEqual([expect.stringMatching(/under: must be an absolute path/)]);
  });

  it('refuses a partial wildcard in an argument path', () => {
    expect(ruleProblems({ 'file*': { under: '/etc' } })).toEqual([
      'guardrails.rules[0].args.file*: segment "file*": a wildcard is a whole segment, "*" (any one key or index) or "**" (any depth)',
    ]);
  });
});

describe('resolving one server', () => {
  const file: ConfigFile = {
    agentKey: 'agent',
    mode: 'monitor',
    environment: 'staging',
    redactKeys: ['token'],
    servers: {
      github: { upstream, mode: 'enforce' },
      filesystem: { upstream, serverName: 'fs', redactKeys: [] },
    },
  };

  it('applies defaults to a plain config', () => {
    const c = resolveProxyConfig({ agentKey: 'a', upstream }, '/tmp/x/ratri.mcp.json');
    expect(c).toMatchObject({
      serverName: 'default',
      mode: 'monitor',
      environment: 'development',
      approvalTimeoutMs: 50_000,
      guardFailureMode: 'fail_open',
      guardTimeoutMs: 2000,
      maxFrameBytes: 67_108_864,
      guardrails: { rules: [] },
      approvals: { progressIntervalMs: 5000, grantWindowMs: 600_000 },
      baseDir: '/tmp/x',
    });
  });

  it('lets a servers entry override the top level, and names it after its key', () => {
    expect(resolveProxyConfig(file, 'f', { server: 'github' })).toMatchObject({
      serverName: 'github',
      mode: 'enforce',
      environment: 'staging',
      redactKeys: ['token'],
    });
    expect(resolveProxyConfig(file, 'f', { server: 'filesystem' })).toMatchObject({ serverName: 'fs', mode: 'monitor', redactKeys: [] });
  });

  it('lets the CLI override mode and environment', () => {
    expect(resolveProxyConfig(file, 'f', { server: 'filesystem', mode: 'enforce', environment: 'production' })).toMatchObject({
      mode: 'enforce',
      environment: 'production',
    });
  });

  it('names the servers when --server is missing or wrong', () => {
    expect(() => resolveProxyConfig(file, 'f')).toThrow(/--server: required, because "servers" has 2 entries: github, filesystem/);
    expect(() => resolveProxyConfig(file, 'f', { server: 'gitlab' })).toThrow(
      /"gitlab" is not in "servers"; the names are: github, filesystem/,
    );
  });
});
