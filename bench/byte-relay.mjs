#!/usr/bin/env node
/**
 * The baseline the proxy is compared with: the cheapest possible stdio relay in Node.
 *
 *   node bench/byte-relay.mjs <command> [args...]
 *
 * Spawns the upstream and pipes our stdin → its stdin and its stdout → our stdout, byte for byte,
 * with stream backpressure (`pipe`). Nothing is parsed, framed or inspected. The only extra code is
 * lifecycle, so the relay never outlives its upstream nor leaves it orphaned: stdin EOF reaches the
 * upstream through the pipe, the relay exits with the upstream's code, and SIGINT/SIGTERM are passed on.
 */
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: node bench/byte-relay.mjs <command> [args...]\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });

process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);

child.stdin.on('error', () => undefined); // EPIPE once the upstream is gone; its exit is handled below
process.stdout.on('error', () => child.kill('SIGTERM')); // the host went away
child.on('error', (err) => {
  process.stderr.write(`byte-relay: cannot start ${command}: ${err.message}\n`);
  process.exit(127);
});
child.on('close', (code, signal) => {
  process.stdin.destroy(); // stop reading from the host, so the event loop can end
  process.exitCode = code ?? (signal ? 128 + 15 : 1);
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    child.kill(signal);
    process.exitCode = 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15);
  });
}
