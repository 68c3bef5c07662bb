/**
 * The benchmark's MCP host: a raw newline-delimited JSON-RPC client over a child process's stdio.
 *
 * It is deliberately small and identical for every variant (direct, byte relay, ratri): it spawns a
 * command, writes request frames to its stdin and matches answers by id from its stdout. No SDK, no
 * schema validation, one JSON.parse per answer. Robustness: every request has a deadline (checked by
 * one watchdog timer, not a timer per call), an unexpected exit fails every outstanding request with
 * the exit status and the tail of the child's stderr, and answers that are JSON-RPC errors reject.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export const PROTOCOL_VERSION = '2025-06-18';
const NEWLINE = 0x0a;
const STDERR_TAIL_BYTES = 8192;

export class RpcError extends Error {
  constructor(label, error) {
    super(`${label}: JSON-RPC error ${error?.code}: ${error?.message}`);
    this.name = 'RpcError';
    this.code = error?.code;
    this.data = error?.data;
  }
}

export class McpStdioClient {
  /**
   * @param {object} o
   * @param {string} o.name          label used in error messages
   * @param {string} o.command
   * @param {string[]} o.args
   * @param {number} [o.requestTimeoutMs]  how long any single request may stay unanswered
   */
  constructor({ name, command, args, requestTimeoutMs = 30_000, env = process.env, cwd = process.cwd() }) {
    this.name = name;
    this.command = command;
    this.args = args;
    this.env = env;
    this.cwd = cwd;
    this.requestTimeoutMs = requestTimeoutMs;
    this.nextId = 1;
    /** id → { resolve, reject, sentAt, label } */
    this.pending = new Map();
    this.chunks = [];
    this.chunkBytes = 0;
    this.stderrTail = '';
    this.notifications = 0;
    this.serverRequests = 0;
    this.exitInfo = undefined;
    this.failure = undefined;
  }

  get pid() {
    return this.child?.pid;
  }

  /** Spawns the child and resolves once it is running. */
  start() {
    return new Promise((resolve, reject) => {
      const child = spawn(this.command, this.args, { stdio: ['pipe', 'pipe', 'pipe'], env: this.env, cwd: this.cwd });
      this.child = child;
      this.exited = new Promise((resolveExit) => {
        child.once('close', (code, signal) => {
          this.exitInfo = { code, signal };
          clearInterval(this.watchdog);
          this.failAll(new Error(`${this.name}: process exited unexpectedly (${describeExit(code, signal)})${this.stderrHint()}`));
          resolveExit(this.exitInfo);
        });
      });
      child.once('error', (err) => {
        if (child.pid === undefined) reject(new Error(`${this.name}: cannot spawn ${this.command}: ${err.message}`));
      });
      child.once('spawn', () => resolve());
      child.stdin.on('error', (err) =>
        this.failAll(new Error(`${this.name}: writing to its stdin failed: ${err.message}${this.stderrHint()}`)),
      );
      child.stdout.on('data', (chunk) => this.onData(chunk));
      child.stderr.on('data', (chunk) => {
        this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      });
      this.watchdog = setInterval(() => this.checkDeadlines(), 500);
      this.watchdog.unref();
    });
  }

  stderrHint() {
    const tail = this.stderrTail.trim();
    return tail ? `\n--- last stderr of ${this.name} ---\n${tail.split('\n').slice(-20).join('\n')}` : '';
  }

  checkDeadlines() {
    if (this.pending.size === 0) return;
    const now = performance.now();
    for (const [id, p] of this.pending) {
      if (now - p.sentAt > this.requestTimeoutMs) {
        this.failAll(
          new Error(
            `${this.name}: no answer to ${p.label} (id ${id}) within ${this.requestTimeoutMs} ms; ${this.pending.size} request(s) outstanding${this.stderrHint()}`,
          ),
        );
        return;
      }
    }
  }

  failAll(err) {
    this.failure ??= err;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  onData(chunk) {
    let start = 0;
    // Corked while a chunk is split, but the requests that answers trigger are sent from promise
    // continuations, which run after this handler: in effect every request is its own write(),
    // as with the SDK's stdio transports.
    this.child.stdin.cork();
    try {
      while (start < chunk.length) {
        const nl = chunk.indexOf(NEWLINE, start);
        if (nl === -1) {
          this.chunks.push(chunk.subarray(start));
          this.chunkBytes += chunk.length - start;
          break;
        }
        let line = chunk.subarray(start, nl);
        if (this.chunks.length > 0) {
          this.chunks.push(line);
          line = Buffer.concat(this.chunks, this.chunkBytes + line.length);
          this.chunks = [];
          this.chunkBytes = 0;
        }
        start = nl + 1;
        if (line.length > 0) this.onLine(line);
      }
    } finally {
      this.child.stdin.uncork();
    }
  }

  onLine(line) {
    const at = performance.now();
    let msg;
    try {
      msg = JSON.parse(line.toString('utf8'));
    } catch (err) {
      this.failAll(new Error(`${this.name}: invalid JSON on stdout (${err.message}): ${line.subarray(0, 200).toString('utf8')}`));
      return;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.failAll(new Error(`${this.name}: unexpected frame on stdout: ${line.subarray(0, 200).toString('utf8')}`));
      return;
    }
    if (typeof msg.method === 'string') {
      if (msg.id === undefined) {
        this.notifications++;
      } else {
        // A server→client request (sampling, roots…): we declared no such capability, so refuse it.
        this.serverRequests++;
        this.write(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'Method not found' } }));
      }
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return; // an answer to a request that already failed
    this.pending.delete(msg.id);
    if (msg.error) p.reject(new RpcError(`${this.name}: ${p.label} (id ${msg.id})`, msg.error));
    else p.resolve({ result: msg.result, sentAt: p.sentAt, receivedAt: at });
  }

  write(text) {
    if (this.failure) throw this.failure;
    this.child.stdin.write(text + '\n');
  }

  /** Sends a request frame (already serialized, without newline) whose id is `id`. */
  sendFrame(id, frame, label) {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, sentAt: performance.now(), label });
      this.child.stdin.write(frame + '\n');
    });
  }

  request(method, params) {
    const id = this.nextId++;
    return this.sendFrame(id, JSON.stringify({ jsonrpc: '2.0', id, method, params }), method);
  }

  notify(method, params) {
    this.write(JSON.stringify({ jsonrpc: '2.0', method, ...(params ? { params } : {}) }));
  }

  /** initialize → notifications/initialized, as a host does. */
  async initialize() {
    const { result } = await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'ratri-bench', version: '1.0.0' },
    });
    this.notify('notifications/initialized');
    return result;
  }

  /**
   * One echo tools/call. The frame is built by string concatenation (the message is ASCII without
   * characters JSON would escape, checked by the caller once) so the client costs the same for all.
   */
  callEcho(message) {
    const id = this.nextId++;
    const frame = `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"message":"${message}"}}}`;
    return this.sendFrame(id, frame, 'tools/call echo');
  }

  callTool(name, args) {
    return this.request('tools/call', { name, arguments: args });
  }

  /**
   * `total` echo calls with `inFlight` outstanding at any time. Resolves with the elapsed time
   * (first send → last answer) in ms.
   */
  pipelinedEcho(total, inFlight, message) {
    return new Promise((resolve, reject) => {
      let sent = 0;
      let done = 0;
      let failed = false;
      const started = performance.now();
      const onAnswer = () => {
        if (failed) return;
        done++;
        if (done === total) resolve(performance.now() - started);
        else if (sent < total) sendOne();
      };
      const onError = (err) => {
        if (failed) return;
        failed = true;
        reject(err);
      };
      const sendOne = () => {
        sent++;
        this.callEcho(message).then(onAnswer, onError);
      };
      const first = Math.min(inFlight, total);
      this.child.stdin.cork();
      for (let i = 0; i < first; i++) sendOne();
      this.child.stdin.uncork();
    });
  }

  /**
   * Ends the session the way a host does (close stdin) and waits for the process to exit; after
   * `graceMs` it is sent SIGTERM, after another `graceMs` SIGKILL. Resolves with how it ended.
   */
  async close(graceMs = 8000) {
    if (!this.child) return undefined;
    if (this.exitInfo) return { ...this.exitInfo, forced: false };
    const exited = this.exited;
    this.closing = true;
    this.child.stdin.end();
    const within = (ms) => Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), ms).unref())]);
    if (await within(graceMs)) return { ...this.exitInfo, forced: false };
    this.child.kill('SIGTERM');
    if (await within(graceMs)) return { ...this.exitInfo, forced: 'SIGTERM' };
    this.child.kill('SIGKILL');
    await exited;
    return { ...this.exitInfo, forced: 'SIGKILL' };
  }
}

function describeExit(code, signal) {
  return code !== null ? `code ${code}` : `signal ${signal}`;
}
