/**
 * A host request whose id is that of a request still pending or held: the same id, or the same
 * number spelled otherwise (`7` while `7.0` waits). MCP forbids reusing an id in a session, and the
 * upstream cannot tell the two requests apart: most upstreams answer `7.0` as `7`, and either may be
 * answered first. No answer could then be matched to its request for sure, so a result rule could
 * judge one call's answer under the other call's rules. Enforce mode refuses the second request with
 * -32600, whatever its method; monitor mode forwards it and records a warning (docs/errors.md).
 */
import type { HeldCalls } from './held-calls.js';
import type { PendingRequests } from './pending-requests.js';

/** Why a request with this id cannot be told from one still pending or held; undefined when its id is free. */
export function reusedIdReason(key: string, rawId: string, pending: PendingRequests, held: HeldCalls): string | undefined {
  const heldId = held.idInUse(key);
  if (heldId !== undefined) return `${idClause(rawId, heldId)} a call held for approval; send this call with another id`;
  const pendingId = pending.idInUse(key);
  if (pendingId !== undefined)
    return `${idClause(rawId, pendingId)} a request the upstream has not answered; send this request with another id`;
  return undefined;
}

function idClause(rawId: string, otherId: string): string {
  return otherId === rawId ? `request id ${rawId} is already used by` : `request id ${rawId} is the same number as id ${otherId}, used by`;
}
