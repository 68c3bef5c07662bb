/**
 * `ratri doctor --mcp`: runs the checks in order, for each server the config names, and reports
 * each one as soon as it is known. A check that cannot run because an earlier one failed is
 * reported as skipped. The upstream is always stopped before the run ends, on failure, timeout and
 * Ctrl-C (the AbortSignal) alike.
 */
import { resolve } from 'node:path';
import type { ToolDefinition } from '../policy/tool-catalog.js';
import type { UpstreamProcess } from '../session/upstream-process.js';
import { type CheckId, type CheckResult, skipped } from './check-result.js';
import { checkConfig, checkControlPlane, checkUpstream, hostSnippet, type ServerUnderTest, serverLabel } from './checks.js';
import { checkInitialize, checkTools, DoctorAborted, type McpSession, openSession } from './mcp-checks.js';
import { checkRules } from './rules-check.js';

export interface DoctorOptions {
  /** The config file, as given (relative to the working directory). */
  configPath: string;
  /** `--server`: check only this entry of `servers`. */
  server?: string;
  /** The longest wait for one answer (initialize, one tools/list page, one HTTP request). */
  timeoutMs: number;
  /** ratri's version, sent as clientInfo.version. */
  version: string;
  /** Colour in the pre-rendered lines (the decisions table). */
  colour: boolean;
  /** Ctrl-C: stop the upstream and end the run. */
  signal?: AbortSignal;
  /** Each check as soon as it is known. */
  onCheck?(check: CheckResult): void;
  /** A server's checks begin (multi-server configs). */
  onSection?(server: ServerUnderTest): void;
  /** A slow step starts (text), or the last one ended (undefined). */
  onProgress?(text: string | undefined): void;
}

export interface DoctorReport {
  /** True when no check failed (warnings allowed). */
  ok: boolean;
  /** The config file's absolute path. */
  config: string;
  checks: CheckResult[];
  /** True when Ctrl-C ended the run before every check ran. */
  interrupted: boolean;
}

const SERVER_CHECKS: CheckId[] = ['upstream', 'initialize', 'tools', 'rules', 'control-plane', 'host-config'];

/** Collects the checks of one run: `report` passes each on as it is known, `done` makes the report. */
export function checkCollector(
  options: Pick<DoctorOptions, 'onCheck' | 'onProgress'>,
  file: string,
): { report: (check: CheckResult) => void; done: (interrupted: boolean) => DoctorReport } {
  const checks: CheckResult[] = [];
  const report = (check: CheckResult): void => {
    options.onProgress?.(undefined);
    checks.push(check);
    options.onCheck?.(check);
  };
  const done = (interrupted: boolean): DoctorReport => ({
    ok: !interrupted && checks.every((c) => c.ok),
    config: resolve(file),
    checks,
    interrupted,
  });
  return { report, done };
}

/** Runs every check; resolves with the report (it rejects only on a bug, never on a bad setup). */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { report, done } = checkCollector(options, options.configPath);

  const config = checkConfig(options.configPath, options.server);
  report(config.result);
  if (!config.result.ok) return done(false);

  // The store and api are top-level fields, the same for every server: their check runs once.
  let controlPlane: Promise<CheckResult> | undefined;
  const storeInFile = config.file?.store !== undefined;
  try {
    const stopIfAborted = (): void => {
      if (options.signal?.aborted) throw new DoctorAborted('interrupted');
    };
    for (const s of config.servers) {
      stopIfAborted();
      if (config.file?.servers) options.onSection?.(s);
      const label = serverLabel(s);
      const tools = await mcpChecks(s, options, report);
      stopIfAborted(); // Ctrl-C while the upstream was being stopped
      const entries = config.file?.servers ?? {};
      const sharedRules = s.entry !== undefined && Object.keys(entries).length > 1 && entries[s.entry]?.guardrails === undefined;
      if (tools) report(checkRules(s.config, tools, label, { colour: options.colour, sharedRules }));
      else report(skipped('rules', 'no tool list to decide about', label));
      options.onProgress?.(s.config.api ? 'checking the remote control plane' : 'checking the store');
      controlPlane ??= checkControlPlane(s.config, storeInFile, options.timeoutMs, label);
      report({ ...(await controlPlane), server: label });
      report(hostSnippet(s, options.configPath));
    }
  } catch (err) {
    if (!(err instanceof DoctorAborted)) throw err;
    options.onProgress?.(undefined);
    return done(true);
  }
  return done(false);
}

/** What the MCP checks need of the options. */
export type McpCheckOptions = Pick<DoctorOptions, 'timeoutMs' | 'version' | 'signal' | 'onProgress'>;

/** Checks 2–4 with one upstream: started, spoken to, and stopped before returning. Returns the tools when listed. */
export async function mcpChecks(
  s: ServerUnderTest,
  options: McpCheckOptions,
  report: (c: CheckResult) => void,
): Promise<ToolDefinition[] | undefined> {
  const label = serverLabel(s);
  const skipRest = (from: CheckId, why: string): void => {
    for (const id of SERVER_CHECKS.slice(SERVER_CHECKS.indexOf(from), SERVER_CHECKS.indexOf('rules'))) report(skipped(id, why, label));
  };
  options.onProgress?.(`starting ${s.config.upstream.command}`);
  const started = await checkUpstream(s);
  report(started.result);
  if (!started.child) {
    skipRest('initialize', 'the upstream did not start');
    return undefined;
  }
  const child: UpstreamProcess = started.child;
  let session: McpSession | undefined;
  try {
    if (options.signal?.aborted) throw new DoctorAborted('interrupted');
    session = openSession(child, s.config.maxFrameBytes);
    options.onProgress?.(`waiting for the answer to initialize (up to ${seconds(options.timeoutMs)})`);
    const init = await checkInitialize(session, options.version, options.timeoutMs, label, options.signal);
    report(init.result);
    if (!init.result.ok) {
      skipRest('tools', 'the upstream did not complete the MCP handshake');
      return undefined;
    }
    if (!init.hasTools) {
      skipRest('tools', 'the server declares no tools');
      return undefined;
    }
    options.onProgress?.('waiting for tools/list');
    const listed = await checkTools(session, options.timeoutMs, label, options.signal);
    report(listed.result);
    return listed.tools;
  } finally {
    session?.close();
    // A server that ignores the closed stdin takes up to 4 s to stop: say so rather than hang silently.
    const slow = setTimeout(
      () => options.onProgress?.('stopping the upstream (closed its stdin; SIGTERM, then SIGKILL, if it lingers)'),
      500,
    );
    await child.stop();
    clearTimeout(slow);
    options.onProgress?.(undefined);
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
