/**
 * Who sent a request, when a front rewrote it before the interceptor read it. The HTTP front gives
 * each 2026-07-28 request on its shared upstream an id of its own (`"ratri-N"`), so the policy reads
 * exactly what the upstream gets; what is recorded and shown (events, approvals) is the client's own
 * id instead; and a retry names the round it proved it continues (docs/protocol-eras.md). Over stdio there is one host and no rewriting: no origin at all.
 */
import type { RawId } from '../jsonrpc/errors.js';

export interface RequestOrigin {
  /** The id the client wrote, as it wrote it: recorded in events and approvals. */
  clientId: RawId;
  /**
   * Clients share the interceptor, so a retry continues a round only with proof: the id (as the
   * interceptor reads it) of the request whose `input_required` answer gave this client the
   * `requestState` it echoed; '' when it proved none (docs/security.md).
   */
  continues: RawId;
}

/** The origin of a request by the id the interceptor reads, or undefined when nobody rewrote it. */
export type OriginOf = (rawId: RawId) => RequestOrigin | undefined;
