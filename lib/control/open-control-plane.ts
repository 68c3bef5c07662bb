/** Chooses the control plane a config names: the remote API when `api` is set, else the embedded store. */

import { dirname, resolve } from 'node:path';
import { readConfigFile, resolveProxyConfig } from '../config/load-config.js';
import { defaultStorePath, resolveConfigPath } from '../config/paths.js';
import type { ProxyConfig } from '../config/types.js';
import { HttpControlPlane } from './http-control-plane.js';
import { LocalControlPlane } from './local-control-plane.js';

/** A control plane a command opens: the embedded store, or the remote API (both read events and tools: `ratri events`, `ratri tools list`). */
export type ChosenControlPlane = LocalControlPlane | HttpControlPlane;

/**
 * The control plane a config names. `approverKey`: the key a remote API wants for resolving approvals
 * (`ratri approvals`); proxies have none. `existingStore`: for a command, which never creates a store.
 */
export function openControlPlane(
  config: ProxyConfig,
  { approverKey, existingStore = false }: { approverKey?: string; existingStore?: boolean } = {},
): ChosenControlPlane {
  if (config.api) return HttpControlPlane.open(config, undefined, approverKey, { forCommand: existingStore });
  const open = existingStore ? LocalControlPlane.openExisting : LocalControlPlane.open;
  return open(config.store, config.guardrails, config.redactKeys, config.secrets);
}

/** The upstream of a config that names none, read by a command that only uses its control plane. */
const NEVER_STARTED = { command: '' } as const;

/** How a command names the control plane it works on: `--store`, else `--config` (and `--server`), else the default store. */
export interface ControlPlaneChoice {
  store?: string;
  config?: string;
  server?: string;
  /** With a remote API: the approver key, sent when resolving approvals (and, when given, reading events and tools). */
  approverKey?: string;
}

/** The control plane for `ratri approvals`, `ratri events`, `ratri tools list`: the store or remote API the proxies of that config use. */
export function openChosenControlPlane(choice: ControlPlaneChoice): ChosenControlPlane {
  if (!choice.store && choice.config) {
    // `store` and `api` are top-level fields: any entry of `servers` leads to the same control plane.
    // An approver's config may name no upstream at all: these commands never start one.
    const file = readConfigFile(choice.config, { controlPlaneOnly: true });
    const server = choice.server ?? (file.servers ? Object.keys(file.servers)[0] : undefined);
    const withUpstream = file.upstream || file.servers ? file : { ...file, upstream: NEVER_STARTED };
    return openControlPlane(resolveProxyConfig(withUpstream, choice.config, { server }), {
      approverKey: choice.approverKey,
      existingStore: true,
    });
  }
  return LocalControlPlane.openExisting(storePathOf(choice));
}

/** The embedded store a command works on (`ratri tools trust`); an error when the config uses a remote API or there is no store. */
export function openChosenStore(choice: ControlPlaneChoice, command: string): LocalControlPlane {
  return LocalControlPlane.openExisting(storePathOf(choice, command));
}

function storePathOf(choice: ControlPlaneChoice, command?: string): string {
  if (choice.store) return resolve(choice.store);
  if (!choice.config) return defaultStorePath();
  const file = readConfigFile(choice.config, { controlPlaneOnly: true });
  if (file.api && command) {
    throw new Error(
      `${choice.config} uses the remote control plane at ${file.api.url}; "${command}" reads a local store. ` +
        'Run it where "ratri serve" keeps its store, or pass --store PATH.',
    );
  }
  return file.store ? resolveConfigPath(dirname(resolve(choice.config)), file.store) : defaultStorePath();
}
