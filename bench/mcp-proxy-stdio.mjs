#!/usr/bin/env node
/**
 * The peer the benchmark compares ratri's stdio proxy with: npm `mcp-proxy`'s `proxyServer`, the
 * usual TypeScript design (an SDK Server facing the host ⇄ an SDK Client facing the upstream), in a
 * stdio → stdio chain, wired as mcp-proxy's README shows (docs/performance.md).
 *
 *   node bench/mcp-proxy-stdio.mjs <command> [args...]
 *
 * It connects to the upstream first (initialize), then serves the host on stdin/stdout with the
 * upstream's capabilities; it exits when the host closes stdin or the upstream exits.
 */
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Server } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { proxyServer } from 'mcp-proxy';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: node bench/mcp-proxy-stdio.mjs <command> [args...]\n');
  process.exit(2);
}

const upstream = new StdioClientTransport({ command, args, stderr: 'inherit' });
const client = new Client({ name: 'mcp-proxy-bench', version: '1.0.0' });
await client.connect(upstream);
const serverCapabilities = client.getServerCapabilities();
const server = new Server(client.getServerVersion(), { capabilities: serverCapabilities });
await proxyServer({ client, server, serverCapabilities });
const host = new StdioServerTransport();
await server.connect(host);

const stop = async (code) => {
  await client.close().catch(() => undefined);
  process.exit(code);
};
process.stdin.on('end', () => void stop(0));
upstream.onclose = () => void stop(0);
