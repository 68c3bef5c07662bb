/**
 * What a key bound to agents may touch (docs/api.md, "Keys for teams"): a proxy key of the keys file
 * reads and writes only its agents' evaluations, events, tools, approvals and grants; a scoped
 * approver key resolves only its agents' approvals. Writing for another agent is refused (403);
 * another agent's approval or grant is answered as if there were none (404), so a key cannot learn
 * what other agents do. Keys bound to no agents (the environment's) reach every agent.
 */
import type { Caller } from './key-ring.js';

/** A request outside its key's agents: the answer's status and sentence. */
export class ScopeRefusal extends Error {
  constructor(
    readonly status: 403 | 404,
    message: string,
    /** False for a record that does not exist at all: answered the same, but nothing was refused. */
    readonly refused = true,
  ) {
    super(message);
  }
}

const boundTo = (caller: Caller): string =>
  `bound to agent${caller.agents!.length === 1 ? '' : 's'} ${caller.agents!.map((a) => `"${a}"`).join(', ')}`;

/** Whether the caller may see or act on a record of `agentKey`. */
export function sees(caller: Caller, agentKey: string): boolean {
  return caller.agents === null || caller.agents.includes(agentKey);
}

/** Refuses (403) a write for `agentKey` the caller may not make; `field` names where the body says it. */
export function actFor(caller: Caller, agentKey: string, field: string): void {
  if (sees(caller, agentKey)) return;
  throw new ScopeRefusal(
    403,
    `${field}: key "${caller.label}" is ${boundTo(caller)}; it cannot read or write the data of agent "${agentKey}" (that agent's proxy needs a key of its own: ratri serve keys add --agent ${agentKey})`,
  );
}

/** Refuses (404) a record of another agent as if it did not exist. */
export function visible<T extends { agentKey: string }>(caller: Caller, record: T | undefined, what: string): T {
  if (record && sees(caller, record.agentKey)) return record;
  const seen = caller.agents ? ` that key "${caller.label}" may see (it is ${boundTo(caller)})` : '';
  throw new ScopeRefusal(404, `there is no ${what}${seen}`, record !== undefined);
}

/**
 * The agents a listing may show: those of `?agentKey=` when named (403 when the caller may not read
 * it), else the caller's own; undefined: every agent.
 */
export function agentsToRead(caller: Caller, named: string | null): readonly string[] | undefined {
  if (named !== null) {
    actFor(caller, named, 'agentKey');
    return [named];
  }
  return caller.agents ?? undefined;
}
