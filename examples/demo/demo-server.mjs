#!/usr/bin/env node
// The MCP server behind `ratri demo`: plain Node, no dependencies, newline-delimited JSON-RPC on
// stdin/stdout (the MCP stdio transport).
//
//  - `initialize` is answered with a `tools` capability.
//  - `tools/list` lists three tools:
//      read_file  {path}                  annotations: readOnlyHint
//      write_file {path, content, token?} annotations: destructiveHint false (it writes, but never
//                                         destroys anything it did not create)
//      run_shell  {command}               annotations: openWorldHint, destructiveHint
//  - `tools/call` really reads and writes files, but only inside the sandbox folder named by the
//    environment variable DEMO_SANDBOX (default: <tmp>/ratri-demo-sandbox, created when missing).
//    A path outside it (`../x`, `/etc/passwd`, a symlink pointing out) is refused with an
//    `isError` result. `run_shell` never runs anything: it answers what it would have run.
//  - `ping` is answered `{}`; other requests get -32601; notifications get no answer.
//  - stdin EOF ends the process with code 0.
//
// Try it behind ratri by hand: cd examples/demo && npx ratri mcp proxy --config ratri.demo.json
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

const sandboxPath = resolve(process.env.DEMO_SANDBOX || join(tmpdir(), 'ratri-demo-sandbox'));
mkdirSync(sandboxPath, { recursive: true });
// Compared as a real path, so a sandbox under a symlinked /tmp (macOS) still contains its files.
const sandbox = realpathSync(sandboxPath);

const TOOLS = [
  {
    name: 'read_file',
    description: 'Reads a text file in the demo sandbox',
    inputSchema: { type: 'object', properties: { path: { type: 'string', description: 'Relative to the sandbox' } }, required: ['path'] },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'write_file',
    description: 'Writes a text file in the demo sandbox (creates or replaces it)',
    inputSchema: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Relative to the sandbox' },
        content: { type: 'string' },
        token: { type: 'string', description: 'A credential for the write (the demo uses it to show redaction)' },
      },
      required: ['path', 'content'],
    },
    annotations: { readOnlyHint: false, destructiveHint: false },
  },
  {
    name: 'run_shell',
    description: 'Runs a shell command (this demo server only says what it would have run)',
    inputSchema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
  },
];

/** The real path of `path` inside the sandbox, or undefined when it would lead outside it. */
function inSandbox(path) {
  if (typeof path !== 'string' || path === '') return undefined;
  const full = resolve(sandbox, path);
  // The folder the file is (or will be) in, with symlinks resolved: a link must not lead out either.
  let folder;
  try {
    folder = realpathSync(dirname(full));
  } catch {
    return undefined;
  }
  const target = join(folder, basename(full));
  let real = target;
  try {
    real = realpathSync(target);
  } catch {
    // Not there yet (a new file): its folder was checked above.
  }
  const rel = relative(sandbox, real);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? undefined : real;
}

const text = (t, isError = false) => ({ content: [{ type: 'text', text: t }], ...(isError ? { isError: true } : {}) });

function callTool(name, args) {
  switch (name) {
    case 'read_file': {
      const file = inSandbox(args.path);
      if (!file) return text(`refused: ${JSON.stringify(args.path)} is outside the sandbox`, true);
      try {
        return text(readFileSync(file, 'utf8'));
      } catch (err) {
        return text(`cannot read ${args.path}: ${err.code ?? err.message}`, true);
      }
    }
    case 'write_file': {
      const file = inSandbox(args.path);
      if (!file) return text(`refused: ${JSON.stringify(args.path)} is outside the sandbox`, true);
      if (typeof args.content !== 'string') return text('content must be a string', true);
      try {
        writeFileSync(file, args.content);
      } catch (err) {
        return text(`cannot write ${args.path}: ${err.code ?? err.message}`, true);
      }
      return text(`wrote ${Buffer.byteLength(args.content)} bytes to ${args.path}`);
    }
    case 'run_shell':
      return text(`would have run: ${String(args.command)} (the demo server never runs commands)`);
    default:
      return undefined;
  }
}

function answer(message) {
  const reply = (body) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: message.id, ...body }) + '\n');
  switch (message.method) {
    case 'initialize':
      return reply({
        result: {
          protocolVersion: message.params?.protocolVersion ?? '2025-06-18',
          capabilities: { tools: {} },
          serverInfo: { name: 'ratri-demo-server', version: '1.0.0' },
        },
      });
    case 'ping':
      return reply({ result: {} });
    case 'tools/list':
      return reply({ result: { tools: TOOLS } });
    case 'tools/call': {
      const name = message.params?.name;
      const args = message.params?.arguments ?? {};
      const result = callTool(name, typeof args === 'object' && args !== null ? args : {});
      return reply(result ? { result } : { error: { code: -32602, message: `unknown tool: ${String(name)}` } });
    }
    default:
      return reply({ error: { code: -32601, message: `method not found: ${String(message.method)}` } });
  }
}

let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  let nl;
  while ((nl = buffer.indexOf('\n')) !== -1) {
    const line = buffer.slice(0, nl).trim();
    buffer = buffer.slice(nl + 1);
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      continue; // not JSON: nothing sensible to answer
    }
    // Requests only (a batch is not used by the demo); notifications such as notifications/initialized need no answer.
    if (message && typeof message.method === 'string' && message.id !== undefined) answer(message);
  }
});
process.stdin.on('end', () => process.exit(0));
