// `ratri rules test` through the built CLI: the decision, the deciding rule, why the others did not
// match, --json, and the exit code that says the decision (docs/policy.md#trying-rules-ratri-rules-test).
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, runCli, writeConfig } from '../helpers/cli.js';

const { dir } = cleanUpAfterEach('ratri-rules-test-');

const rules = [
  { id: 'no-etc', tool: '*', args: { path: { regex: '^/etc/' } }, decision: 'block' },
  { id: 'warn-read', tool: 'read_*', decision: 'warn' },
  { id: 'confirm-moves', tool: 'move_file', environment: 'prod*', decision: 'require_approval' },
  { id: 'destructive', annotations: { destructiveHint: true }, decision: 'require_approval' },
  { template: 'block_destructive_tools' },
];

function config(): string {
  return writeConfig(dir(), { agentKey: 'a', serverName: 'fs', upstream: { command: 'true' }, guardrails: { rules } });
}

interface Json {
  decision: string;
  ruleId: string | null;
  rules: Array<{ id: string; matched: boolean; decided: boolean; why: string[] }>;
}

describe('ratri rules test', () => {
  it('names the deciding rule, says why the others did not match, and exits 3 for block', async () => {
    const r = await runCli(['rules', 'test', '-c', config(), '--tool', 'read_file', '--args', '{"path":"/etc/passwd"}']);
    expect(r.code).toBe(3);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('fs.read_file (environment development): block by rule "no-etc": matched rule "no-etc"');
    expect(lines).toContain('  → no-etc (block): matched');
    expect(lines).toContain('      matched, but "no-etc" decided block, which is stricter');
    expect(lines).toContain('      tool "move_file" does not match: the tool is "read_file" ("fs.read_file")');
    expect(lines).toContain('      environment "prod*" does not match: the environment is "development"');
    expect(lines).toContain('      annotations.destructiveHint true does not match: the tool has no destructiveHint annotation');
  });

  it('exits 4 for require_approval and 0 for warn and allow, and --json carries every rule', async () => {
    const file = config();
    const held = await runCli(['rules', 'test', '-c', file, '--tool', 'move_file', '--environment', 'production', '--json']);
    expect(held.code).toBe(4);
    const json = JSON.parse(held.stdout) as Json;
    expect(json).toMatchObject({ decision: 'require_approval', ruleId: 'confirm-moves' });
    expect(json.rules.map((r) => [r.id, r.matched, r.decided])).toEqual([
      ['no-etc', false, false],
      ['warn-read', false, false],
      ['confirm-moves', true, true],
      ['destructive', false, false],
      ['block_destructive_tools', false, false],
    ]);
    expect(json.rules[0]!.why).toEqual(['args.path {"regex":"^/etc/"} does not match: argument "path" is absent']);
    expect((await runCli(['rules', 'test', '-c', file, '--tool', 'read_file'])).code).toBe(0);
    const allowed = await runCli(['rules', 'test', '-c', file, '--tool', 'list', '--json']);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ decision: 'allow', ruleId: null, reason: 'no rule matched' });
  });

  it('takes the tool annotations from --annotations', async () => {
    const r = await runCli(['rules', 'test', '-c', config(), '--tool', 'drop', '--annotations', '{"destructiveHint":true}', '--json']);
    expect(r.code).toBe(3);
    const json = JSON.parse(r.stdout) as Json;
    expect(json).toMatchObject({ decision: 'block', ruleId: 'block_destructive_tools' });
    expect(json.rules.find((x) => x.id === 'destructive')).toMatchObject({ matched: true, decided: false });
  });

  it('uses the rules and serverName of the --server entry, and needs it with several', async () => {
    const file = writeConfig(dir(), {
      agentKey: 'a',
      guardrails: { rules: [{ id: 'top', decision: 'block' }] },
      servers: {
        gh: {
          upstream: { command: 'true' },
          guardrails: { rules: [{ id: 'gh-only', tool: 'gh.create_*', decision: 'require_approval' }] },
        },
        fs: { upstream: { command: 'true' } },
      },
    });
    const missing = await runCli(['rules', 'test', '-c', file, '--tool', 'create_issue']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--server: required, because "servers" has 2 entries: gh, fs');
    expect((await runCli(['rules', 'test', '-c', file, '--server', 'gh', '--tool', 'create_issue'])).code).toBe(4);
    expect((await runCli(['rules', 'test', '-c', file, '--server', 'fs', '--tool', 'create_issue'])).code).toBe(3);
  });

  it('explains matchers the same way whatever they are: under, wildcards, keys in any case', async () => {
    const file = writeConfig(dir(), {
      agentKey: 'a',
      serverName: 'fs',
      upstream: { command: 'true' },
      guardrails: { rules: [{ id: 'no-etc-anywhere', tool: 'move_file', args: { '*': { under: '/etc' } }, decision: 'block' }] },
    });
    const hit = await runCli([
      'rules',
      'test',
      '-c',
      file,
      '--tool',
      'move_file',
      '--args',
      '{"source":"/tmp/a","DESTINATION":"/etc/../etc/passwd"}',
    ]);
    expect(hit.code).toBe(3);
    expect(hit.stdout).toContain('  → no-etc-anywhere (block): matched');
    const miss = await runCli(['rules', 'test', '-c', file, '--tool', 'move_file', '--args', '{"source":"/tmp/a","destination":"/tmp/b"}']);
    expect(miss.code).toBe(0);
    expect(miss.stdout).toContain('      args.* {"under":"/etc"} does not match: argument "*" is "/tmp/a", "/tmp/b"');
  });

  it('refuses arguments that are not a JSON object with exit 2, naming the option', async () => {
    const r = await runCli(['rules', 'test', '-c', config(), '--tool', 'x', '--args', '[1]']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("ratri: --args: must be a JSON object; give the call's arguments");
    const bad = await runCli(['rules', 'test', '-c', config(), '--tool', 'x', '--annotations', '{"destructive":true}']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--annotations: "destructive" must be one of readOnlyHint');
  });
});
