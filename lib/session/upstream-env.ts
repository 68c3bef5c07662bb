/**
 * The environment an upstream server is started with: ratri's own, minus ratri's credentials (the
 * API key, the HTTP front's token: `ProxyConfig.secretEnv`), plus what `upstream.env` sets. The
 * guarded server must never read the key it would need to approve its own calls
 * (docs/config.md#the-upstreams-environment).
 */
import type { ProxyConfig, UpstreamConfig } from '../config/types.js';
import { UpstreamProcess } from './upstream-process.js';

/** `inherited` without the `secrets` names, then `upstream.env` on top (a name it sets is the user's choice). */
export function upstreamEnv(
  upstream: UpstreamConfig,
  secrets: readonly string[],
  inherited: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...inherited };
  for (const name of secrets) delete env[name];
  return { ...env, ...upstream.env };
}

/** Starts the config's upstream with that environment, as a proxy session does (stderr inherited). */
export function startConfiguredUpstream(config: ProxyConfig): Promise<UpstreamProcess> {
  return UpstreamProcess.start(config.upstream, config.baseDir, upstreamEnv(config.upstream, config.secretEnv));
}
