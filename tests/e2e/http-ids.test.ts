/**
 * The HTTP front routes answers by the id's own text, as the interceptor matches them: requests `7`
 * and `7.0` on one session are two requests, and each POST gets its own answer — also from an
 * upstream that answers `7.0` as `7` (it re-serialises ids, as SDK servers do). A POST that reuses
 * the id of a request still unanswered is refused, so no stream is left waiting (docs/http.md).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, fixtureServer, writeConfig } from '../helpers/cli.js';
import { withHttpFront } from '../helpers/http-front.js';

const { dir } = cleanUpAfterEach('ratri-http-ids-');

describe('HTTP front: ids 7 and 7.0', () => {
  it('answers both POSTs, one answer each, though the upstream writes both ids as 7', async () => {
    const d = dir();
    const config = writeConfig(d, {
      agentKey: 'ids',
      serverName: 'fs',
      mode: 'enforce',
      store: join(d, 'ratri.db'),
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
    });
    await withHttpFront(config, d, async ({ post, initialize }) => {
      const session = await initialize();
      const [seven, sevenPointZero] = await Promise.all([
        post('{"jsonrpc":"2.0","id":7,"method":"ping"}', session),
        post('{"jsonrpc":"2.0","id":7.0,"method":"ping"}', session),
      ]);
      expect(seven.answers).toHaveLength(1);
      expect(sevenPointZero.answers).toHaveLength(1);
    });
  });

  it('refuses a POST whose request id is that of a request still unanswered (or repeated in the POST): 400, and the first still gets its answer', async () => {
    const d = dir();
    const config = writeConfig(d, {
      agentKey: 'ids',
      serverName: 'fs',
      mode: 'enforce',
      approvalTimeoutMs: 1500,
      store: join(d, 'ratri.db'),
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
      guardrails: { rules: [{ id: 'ask', tool: 'delete_*', decision: 'require_approval' }] },
    });
    await withHttpFront(config, d, async ({ post, initialize }) => {
      const session = await initialize();
      const held = post(
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/a"}}}',
        session,
      );
      await new Promise((r) => setTimeout(r, 300)); // the held call's stream is open
      const again = await post('{"jsonrpc":"2.0","id":1,"method":"ping"}', session);
      expect(again.status).toBe(400);
      expect(again.answers).toEqual([
        expect.objectContaining({
          id: 1,
          error: expect.objectContaining({ code: -32600, message: expect.stringContaining('request id 1 is already used') }),
        }),
      ]);
      const twice = await post('[{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","id":"a","method":"ping"}]', session);
      expect(twice.status).toBe(400);
      const first = await held;
      expect(first.answers).toEqual([expect.objectContaining({ id: 1, error: expect.objectContaining({ code: -32002 }) })]);
    });
  });
});
