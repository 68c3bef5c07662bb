/**
 * The era of a request is read from its own `_meta` (docs/protocol-eras.md): modern only when it
 * names a revision date of 2026-07-28 or later; anything else keeps the 2025-era behaviour.
 */
import { describe, expect, it } from 'vitest';
import { protocolEra, requestProtocolVersion } from '../../lib/jsonrpc/protocol-era.js';

const call = (meta: unknown) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', _meta: meta } });
const KEY = 'io.modelcontextprotocol/protocolVersion';

describe('protocolEra', () => {
  it('is modern for 2026-07-28 and later revisions named in params._meta', () => {
    expect(protocolEra(call({ [KEY]: '2026-07-28' }))).toBe('modern');
    expect(protocolEra(call({ [KEY]: '2027-01-01' }))).toBe('modern');
  });

  it('is legacy without the key, with an older revision, or with a value that is not a revision date', () => {
    expect(protocolEra({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } })).toBe('legacy');
    expect(protocolEra({ jsonrpc: '2.0', id: 1, method: 'ping' })).toBe('legacy');
    expect(protocolEra(call({ [KEY]: '2025-11-25' }))).toBe('legacy');
    expect(protocolEra(call({ [KEY]: '9' }))).toBe('legacy');
    expect(protocolEra(call({ [KEY]: 20260728 }))).toBe('legacy');
    expect(protocolEra(call('2026-07-28'))).toBe('legacy');
    expect(protocolEra(call({ protocolVersion: '2026-07-28' }))).toBe('legacy');
  });

  it('reads the version as written', () => {
    expect(requestProtocolVersion(call({ [KEY]: '2026-07-28' }))).toBe('2026-07-28');
    expect(requestProtocolVersion([])).toBeUndefined();
  });
});
