/**
 * The host side of `ratri demo`: starts the real proxy (`node dist/cli/ratri.js mcp proxy`) as a
 * child process, exactly as an MCP host would, and speaks newline-delimited JSON-RPC to it through
 * ratri's one line client (lib/jsonrpc-client/line-client.ts).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LineRpcClient, type RpcAnswer } from '../jsonrpc-client/line-client.js';
import { withDeadline } from '../node/deadline.js';
import { packageRoot } from '../node/package-files.js';

export type { RpcAnswer } from '../jsonrpc-client/line-client.js';

/** The demo's own lines are short; a longer one is not an answer it waits for. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** The built CLI the demo runs; a host runs the same file through the package's `bin`. */
export function cliEntry(): string {
  return join(packageRoot, 'dist', 'cli', 'ratri.js');
}

export class DemoHost {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly client: LineRpcClient;
  private readonly exitWaiters: Array<() => void> = [];
  private readonly closed: Promise<void>;
  /** What the proxy wrote on stderr: shown only when something went wrong. */
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  /** Starts `ratri mcp proxy --config <config>`; `env` is added to this process's environment. */
  constructor(config: string, env: Record<string, string>) {
    const entry = cliEntry();
    if (!existsSync(entry)) throw new Error(`cannot find the built CLI ${entry}; run "npm run build" first`);
    this.child = spawn(process.execPath, [entry, 'mcp', 'proxy', '--config', config], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // The demo server writes only JSON; anything else is not an answer to wait for.
    this.client = new LineRpcClient(this.child.stdout, this.child.stdin, { maxFrameBytes: MAX_LINE_BYTES });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    // 'exit', not 'close': an orphaned upstream may still hold the stderr pipe it inherited.
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      for (const w of this.exitWaiters.splice(0)) w();
    });
    let onClose!: () => void;
    this.closed = new Promise((resolve) => (onClose = resolve));
    this.child.on('close', () => onClose());
  }

  /** Sends a request; the id is returned at once so the caller can look for its approval while it is held. */
  request(method: string, params: Record<string, unknown>, timeoutMs: number): { id: number; answer: Promise<RpcAnswer> } {
    return this.client.request(method, params, timeoutMs);
  }

  notify(method: string, params: Record<string, unknown> = {}): void {
    this.client.notify(method, params);
  }

  private exited(timeoutMs: number): Promise<boolean> {
    if (this.exit) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Stops the proxy the way a host does: closes its stdin, so it stops the upstream and exits.
   * If it has not exited within `graceMs`, SIGTERM (ratri's own graceful stop, which also ends the
   * upstream's process group), then SIGKILL. Resolves once the process is gone.
   */
  async stop(graceMs = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }> {
    this.child.stdin.end();
    let forced = false;
    if (!(await this.exited(graceMs))) {
      forced = true;
      this.child.kill('SIGTERM');
      if (!(await this.exited(3000))) {
        // The upstream reads the proxy's pipe: once the proxy is gone it sees EOF and exits too.
        this.child.kill('SIGKILL');
        await this.exited(5000);
      }
    }
    // The proxy's last words on stderr arrive by 'close'; but whatever still holds these pipes (an
    // upstream that outlived the proxy) must not keep the demo alive.
    await withDeadline(this.closed, 500);
    this.child.stdout.destroy();
    this.child.stderr.destroy();
    return { ...(this.exit ?? { code: null, signal: null }), forced };
  }
}
