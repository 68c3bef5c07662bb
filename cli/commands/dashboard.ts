/** `ratri dashboard`: a local web page over the store: tool calls, pending approvals, the tool registry (docs/dashboard.md). */
import { spawn } from 'node:child_process';
import type { CommandModule } from 'yargs';
import { createDashboardServer } from '../../lib/dashboard/server.js';
import { isLoopback } from '../../lib/net/loopback.js';
import { fail, openStoreOrExit } from '../store-options.js';

interface DashboardArgs {
  port: number;
  host: string;
  store?: string;
  config?: string;
  server?: string;
  open: boolean;
}

/** Opens `url` in the user's browser; says so when it cannot (the dashboard keeps running). */
function openBrowser(url: string): void {
  const [command, ...args]: [string, ...string[]] =
    process.platform === 'darwin' ? ['open', url] : process.platform === 'win32' ? ['cmd', '/c', 'start', '""', url] : ['xdg-open', url];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write(`ratri dashboard: could not start ${command}; open ${url} in a browser\n`));
  child.unref();
}

/** The `ratri dashboard` command module. */
export const dashboardCommand: CommandModule<object, DashboardArgs> = {
  command: 'dashboard',
  describe: 'Serve a local web page of tool calls, pending approvals (approve/reject) and the tool registry',
  builder: (y) =>
    y
      .option('port', { type: 'number', default: 7465, describe: 'Port to listen on (0 picks a free one)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Loopback address to listen on (127.0.0.1, ::1 or localhost)' })
      .option('store', { type: 'string', describe: 'SQLite store to read (default: $RATRI_HOME/ratri.db, else ~/.ratri/ratri.db)' })
      .option('config', { alias: 'c', type: 'string', describe: 'Use the store this ratri.mcp.json names' })
      .option('server', { type: 'string', describe: 'With --config: which entry of "servers"' })
      .option('open', { type: 'boolean', default: false, describe: 'Open the page in the default browser' })
      .example('$0 dashboard', 'The default store on http://127.0.0.1:7465')
      .example('$0 dashboard --config ratri.mcp.json --open', 'The store of that config, opened in the browser')
      .epilog('The page can approve held calls, so it listens on this machine only; see docs/dashboard.md.'),
  handler: async (args) => {
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535)
      fail(`--port must be a whole number from 0 to 65535, not ${args.port}`, 2);
    if (!isLoopback(args.host)) {
      fail(
        `the dashboard can approve held calls and has no login, so it listens only on this machine (127.0.0.1, ::1, localhost), not ${args.host}.\n` +
          `  To use it from another machine, forward the port: ssh -L ${args.port || 7465}:127.0.0.1:${args.port || 7465} THIS-HOST`,
        2,
      );
    }
    const plane = openStoreOrExit(args, 'ratri dashboard');
    const { server } = createDashboardServer({ plane });
    server.on('error', (err: NodeJS.ErrnoException) => {
      void plane.close();
      if (err.code === 'EADDRINUSE')
        fail(`port ${args.port} on ${args.host} is already in use; stop what uses it or pick another --port (0 picks a free one)`);
      if (err.code === 'EACCES') fail(`not allowed to listen on ${args.host}:${args.port}; pick a port above 1023`);
      if (err.code === 'EADDRNOTAVAIL') fail(`${args.host} is not an address of this machine; check --host`);
      fail(`cannot listen on ${args.host}:${args.port}: ${err.message}`);
    });
    server.listen(args.port, args.host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : args.port;
      const host = args.host.includes(':') && !args.host.startsWith('[') ? `[${args.host}]` : args.host;
      const url = `http://${host}:${port}`;
      process.stdout.write(`ratri dashboard: ${url} (store ${plane.location}) — Ctrl-C stops\n`);
      if (args.open) openBrowser(url);
    });

    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      server.close();
      server.closeAllConnections(); // the page's keep-alive connection would hold close() open
      void plane.close().then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  },
};
