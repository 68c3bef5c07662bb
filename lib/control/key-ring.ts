/**
 * The keys `ratri serve` accepts and who each one is (docs/api.md, "Keys and roles"): the proxy and
 * approver keys of the environment (every agent, as before keys files), and the keys of the keys
 * file (keys-file.ts), each bound to its agents. The file's keys can be replaced while serving
 * (rotation); the environment's cannot. Every key is compared by its SHA-256 in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type KeyEntry, type KeyRole, KeysFileError } from './keys-file.js';

/** Who sent a request, as its key says. */
export interface Caller {
  /** For logs: the key's id in the keys file, or which environment key it is. */
  label: string;
  /** The key's id when it came from the keys file (recorded with the approvals it resolves). */
  fileId?: string;
  role: KeyRole;
  /** The agents it may act for; null: every agent. */
  agents: readonly string[] | null;
}

/** What a request without any key configured is: this machine's own programs (loopback only). */
export const ANYONE_HERE: Caller = { label: 'no key (loopback)', role: 'approver', agents: null };

interface Known {
  hash: Buffer;
  caller: Caller;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The environment's keys, by the names of their variables. */
export interface EnvironmentKeys {
  key?: string;
  keyEnv?: string;
  approverKey?: string;
  approverKeyEnv?: string;
}

export class KeyRing {
  private readonly fromEnvironment: Known[] = [];
  private fromFile: Known[] = [];

  /** `withFile`: a keys file is in use, so a key is needed even while it lists none. */
  constructor(
    env: EnvironmentKeys,
    private readonly withFile = false,
  ) {
    const { key, approverKey } = env;
    if (key)
      this.fromEnvironment.push({ hash: sha256(key), caller: { label: `$${env.keyEnv ?? 'proxy key'}`, role: 'proxy', agents: null } });
    if (approverKey) {
      const label = `$${env.approverKeyEnv ?? 'approver key'}`;
      this.fromEnvironment.push({ hash: sha256(approverKey), caller: { label, role: 'approver', agents: null } });
    }
  }

  /** Whether requests must carry a key. False only with no key anywhere and no keys file. */
  get required(): boolean {
    return this.withFile || this.fromEnvironment.length > 0;
  }

  /** How many keys the file gave. */
  get fileKeys(): number {
    return this.fromFile.length;
  }

  /** Replaces the file's keys; a KeysFileError (the old ones stay) when one is an environment key too. */
  replaceFileKeys(entries: KeyEntry[], path: string): void {
    const next = entries.map((e) => ({
      hash: Buffer.from(e.sha256, 'hex'),
      caller: { label: e.id, fileId: e.id, role: e.role, agents: e.agentKeys ?? null },
    }));
    const clash = next.find((k) => this.fromEnvironment.some((e) => e.hash.equals(k.hash)));
    if (clash) {
      const env = this.fromEnvironment.find((e) => e.hash.equals(clash.hash))!;
      throw new KeysFileError(
        `keys file ${path}: key "${clash.caller.label}" is the key in ${env.caller.label.slice(1)}; give it a key of its own`,
      );
    }
    this.fromFile = next;
  }

  /** Who sent `key`; undefined for a key that is not known. Every key is compared, each in constant time. */
  callerOf(key: string): Caller | undefined {
    const sent = sha256(key);
    let caller: Caller | undefined;
    for (const known of [...this.fromEnvironment, ...this.fromFile]) if (timingSafeEqual(sent, known.hash)) caller = known.caller;
    return caller;
  }
}
