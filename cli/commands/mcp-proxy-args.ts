/** The options of `ratri mcp proxy` as its run reads them, and their defaults (for yargs and for cli/plain-proxy-args.ts). */
import { DEFAULTS, type Mode } from '../../lib/config/types.js';

export interface ProxyArgs {
  config?: string;
  '--'?: string[];
  server?: string;
  mode?: Mode;
  environment?: string;
  record?: string;
  'record-unredacted': boolean;
  transport: string;
  port: number;
  host: string;
  'allowed-origin'?: string[];
  'auth-token-env'?: string;
  'session-idle-ms': number;
  'max-sessions': number;
  'request-timeout-ms': number;
}

/** What yargs fills in for an option not given; the plain reading starts from the same. */
export const proxyDefaults = {
  'record-unredacted': false,
  transport: 'stdio',
  port: 3100,
  host: '127.0.0.1',
  'session-idle-ms': DEFAULTS.sessionIdleMs,
  'request-timeout-ms': 10_000,
  'max-sessions': 100,
} as const satisfies Partial<ProxyArgs>;
