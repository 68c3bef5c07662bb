/**
 * The host side of `ratri demo`: starts the real proxy (`node dist/cli/ratri.js mcp proxy`) as a
 * child process, exactly as an MCP host would, and speaks newline-delimited JSON-RPC to it.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { withDeadline } from '../node/deadline.js';
import { packageRoot } from '../package-files.js';

/** A JSON-RPC answer as the host reads it. */
export interface RpcAnswer {
  id: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

/** The built CLI the demo runs; a host runs the same file through the package's `bin`. */
export function cliEntry(): string {
  return join(packageRoot, 'dist', 'cli', 'ratri.js');
}

export class DemoHost {
  private readonly child: ChildProcessWithoutNullStreams;
  private nextId = 1;
  private buffer = '';
  private readonly waiting = new Map<number, (answer: RpcAnswer) => void>();
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
    const decoder = new StringDecoder('utf8'); // a character split between chunks stays whole
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(decoder.write(chunk)));
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    // EPIPE when the proxy died first: its exit is what the demo reports, not the failed write.
    this.child.stdin.on('error', () => undefined);
    // 'exit', not 'close': an orphaned upstream may still hold the stderr pipe it inherited.
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      for (const w of this.exitWaiters.splice(0)) w();
    });
    let onClose!: () => void;
    this.closed = new Promise((resolve) => (onClose = resolve));
    this.child.on('close', () => onClose());
    // Answers come only on stdout, which only the proxy holds: once it ends, a waiting request fails
    // now instead of at its timeout.
    this.child.stdout.on('close', () => {
      for (const [id, resolve] of this.waiting) resolve({ id, error: { code: -32603, message: 'the proxy exited before answering' } });
      this.waiting.clear();
    });
  }

  private onData(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let message: RpcAnswer;
      try {
        message = JSON.parse(line) as RpcAnswer;
      } catch {
        continue; // the demo server writes only JSON; anything else is not an answer to wait for
      }
      const resolve = this.waiting.get(message.id);
      if (resolve) {
        this.waiting.delete(message.id);
        resolve(message);
      }
    }
  }

  /** Sends a request; the id is returned at once so the caller can look for its approval while it is held. */
  request(method: string, params: Record<string, unknown>, timeoutMs: number): { id: number; answer: Promise<RpcAnswer> } {
    const id = this.nextId++;
    if (this.child.stdout.closed) return { id, answer: Promise.resolve({ id, error: { code: -32603, message: 'the proxy has exited' } }) };
    const answer = new Promise<RpcAnswer>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ id, error: { code: 0, message: `no answer within ${timeoutMs} ms` } });
      }, timeoutMs);
      this.waiting.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
    this.write({ jsonrpc: '2.0', id, method, params });
    return { id, answer };
  }

  notify(method: string, params: Record<string, unknown> = {}): void {
    this.write({ jsonrpc: '2.0', method, params });
  }

  private write(message: object): void {
    if (!this.child.stdin.writable) return;
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
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
