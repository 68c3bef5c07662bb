/**
 * The HTTP front routes answers by the id's own text, as the interceptor matches them: requests `7`
 * and `7.0` on one session are two requests, and each POST gets its own answer — also from an
 * upstream that answers `7.0` as `7` (it re-serialises ids, as SDK servers do).
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
});
