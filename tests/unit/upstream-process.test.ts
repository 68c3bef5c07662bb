/** The one upstream spawner: its stderr option (inherit for the proxy, capture for the doctor) and its one wording of a start failure. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpawnError, UpstreamProcess } from '../../lib/session/upstream-process.js';

const node = (script: string) => ({ command: process.execPath, args: ['-e', script] });
const crash = "process.stderr.write('starting\\nError: no token\\n  at main\\n  at run\\n  at x\\n  at y\\n  at z\\n'); process.exit(3)";

async function startFailure(config: { command: string; cwd?: string }): Promise<SpawnError> {
  const err = await UpstreamProcess.start(config, tmpdir(), process.env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SpawnError);
  return err as SpawnError;
}

describe('UpstreamProcess', () => {
  it('captures stderr when asked, and names the error line first when the tail has none', async () => {
    const p = await UpstreamProcess.start(node(crash), tmpdir(), process.env, { stderr: 'capture' });
    expect(await p.exited).toEqual({ code: 3, signal: null });
    expect(p.exit).toEqual({ code: 3, signal: null });
    expect(p.stderrLines()).toEqual(['Error: no token', '…', '  at main', '  at run', '  at x', '  at y', '  at z']);
  });

  it('passes stderr through by default: nothing is kept and there is no stderr pipe', async () => {
    const p = await UpstreamProcess.start(node("process.stderr.write('')"), tmpdir(), process.env);
    await p.exited;
    expect(p.child.stderr).toBeNull();
    expect(p.stderrLines()).toEqual([]);
  });

  it('words a missing command, a missing working directory and a non-executable file one way', async () => {
    const missing = await startFailure({ command: 'ratri-no-such-command-xyz' });
    expect(missing.code).toBe('ENOENT');
    expect(missing.message).toBe(
      `cannot start upstream command "ratri-no-such-command-xyz": not found (looked on PATH and in ${process.cwd()})`,
    );
    const noCwd = await startFailure({ command: 'node', cwd: 'no-such-folder' });
    expect(noCwd.code).toBe('ENOCWD');
    expect(noCwd.message).toBe(
      `cannot start upstream command "node": its working directory ${join(tmpdir(), 'no-such-folder')} (upstream.cwd) does not exist`,
    );
    const notExecutable = await startFailure({ command: join(import.meta.dirname, 'upstream-process.test.ts') });
    expect(notExecutable.code).toBe('EACCES');
    expect(notExecutable.message).toMatch(/^cannot start upstream command ".*": permission denied \(is it executable\?\)$/);
  });
});
