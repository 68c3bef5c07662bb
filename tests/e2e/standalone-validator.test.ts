// The built CLI checks configs with the validator generated at build time (lib/config/config-validator.ts,
// docs/performance.md#start-up), not with ajv compiling the schemas at start. Its messages must be
// exactly those of the schemas compiled at run time (what the sources, and the unit tests, use).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../lib/config/load-config.js';
import { cleanUpAfterEach, cliPath, root, writeConfig } from '../helpers/cli.js';

const { dir } = cleanUpAfterEach('ratri-standalone-validator-');
const hook = join(root, 'tests', 'helpers', 'module-log-hook.mjs');

const upstream = { command: 'node', args: ['server.js'] };
const BAD_CONFIGS: Record<string, unknown>[] = [
  { agentKey: 'a', upstrem: upstream },
  { agentKey: 'a', mode: 'enforcing', upstream },
  { agentKey: 'a', upstream: { args: ['x'] }, approvalTimeoutMs: -1 },
  { agentKey: 'a', upstream, guardrails: { rules: [{ id: 'r', tool: 'x', decision: 'deny', reasn: 'typo' }] } },
  { agentKey: 'a', servers: { 'bad name': { upstream } } },
  { agentKey: 'a', upstream, api: { url: 'ftp://x', keyEnv: 'not a name' }, redactKeys: 'password' },
  // minLength, checked by ajv's ucs2length, whose source the generated file holds (scripts/standalone-validator.mjs)
  { agentKey: 'a', upstream, store: '', guardrails: { rules: [{ id: '', tool: 'x', decision: 'block' }] } },
];

/** The message the sources give for `config` in `file` (the schemas compiled at run time). */
function expectedMessage(config: unknown, file: string): string {
  try {
    validateConfig(config, file);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error(`${JSON.stringify(config)} is valid; the test wants an invalid config`);
}

/** `ratri mcp proxy --config FILE` under the module log: its stderr, exit code and the package files it loaded. */
function runLogged(file: string, logFile: string): Promise<{ code: number | null; stderr: string; loaded: string[] }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', hook, cliPath, 'mcp', 'proxy', '--config', file], {
      env: { ...process.env, RATRI_TEST_MODULE_LOG: logFile },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.stdin.end();
    child.on('close', (code) => {
      const urls = readFileSync(logFile, 'utf8').trim().split('\n');
      resolve({ code, stderr, loaded: urls.filter((u) => u.startsWith('file:')).map((u) => relative(root, new URL(u).pathname)) });
    });
  });
}

describe('the config validator generated at build time', () => {
  it('gives a bad config exactly the message of the schemas compiled at run time, without loading ajv', async () => {
    const d = dir();
    for (const [i, config] of BAD_CONFIGS.entries()) {
      const file = writeConfig(d, config, `bad-${i}.json`);
      const run = await runLogged(file, join(d, `modules-${i}.log`));
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`ratri: ${expectedMessage(config, file)}\n`);
      expect(run.loaded).toContain('dist/lib/config/config-validator.generated.js');
      expect(run.loaded.filter((f) => f.startsWith('node_modules/ajv/') && !f.startsWith('node_modules/ajv/dist/runtime/'))).toEqual([]);
    }
  });
});
