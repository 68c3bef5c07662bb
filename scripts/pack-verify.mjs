// Proves the npm package works as a user gets it (`npm run pack:verify`, run by .ci/run): packs the
// built tree, checks that the tarball holds only what a user needs (the built .js files and files
// tracked by git: never a user's own output such as examples/ratri-events.jsonl, never source maps)
// and a LICENSE that matches package.json, installs the tarball into a temporary global prefix with
// `npm install -g`, then runs the installed `ratri --version` and a short `ratri mcp proxy` session
// in enforce mode against the demo server the package ships. Exit 1 with the reason on any failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'ratri-pack-verify-'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function fail(message) {
  console.error(`pack:verify: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

function run(command, args, options = {}) {
  return execFileSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
}

/** Packs without running `prepare` (the caller builds first) and returns npm's report of the tarball. */
function pack() {
  const [report] = JSON.parse(run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work]));
  return report;
}

/** Every packed file must be built output (dist/…js) or tracked by git; LICENSE must match package.json. */
function checkContents(files) {
  const tracked = new Set(run('git', ['ls-files']).split('\n').filter(Boolean));
  const alwaysPacked = new Set(['package.json', 'README.md', 'LICENSE']);
  const stray = files.filter((f) => !(alwaysPacked.has(f) || tracked.has(f) || (f.startsWith('dist/') && f.endsWith('.js'))));
  const shown = stray.slice(0, 10).join(', ') + (stray.length > 10 ? ` and ${stray.length - 10} more` : '');
  if (stray.length > 0)
    fail(
      `the tarball holds files that are neither built .js nor tracked by git (a user's own files?): ${shown}; fix "files" in package.json`,
    );
  if (!files.includes('LICENSE')) fail('the tarball has no LICENSE');
  if (!files.includes(pkg.bin.ratri)) fail(`the tarball has no ${pkg.bin.ratri} (the "bin"): run npm run build first`);
  const license = readFileSync(join(root, 'LICENSE'), 'utf8');
  if (pkg.license !== 'MIT' || !license.startsWith('MIT License')) fail(`LICENSE does not match package.json "license": ${pkg.license}`);
}

/** A host session: initialize, list the tools, one blocked call (run_shell) and one allowed (read_file). */
function proxySession(ratri, packageDir) {
  const home = join(work, 'home');
  const sandbox = join(work, 'sandbox');
  const frames = [
    {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pack-verify', version: '1' } },
    },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'run_shell', arguments: { command: 'id' } } },
    { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'read_file', arguments: { path: 'note.txt' } } },
  ];
  mkdirSync(sandbox, { recursive: true });
  writeFileSync(join(sandbox, 'note.txt'), 'packed and installed\n');
  const config = join(packageDir, 'examples', 'demo', 'ratri.demo.json');
  const result = spawnSync(ratri, ['mcp', 'proxy', '-c', config], {
    input: frames.map((f) => `${JSON.stringify(f)}\n`).join(''),
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, RATRI_HOME: home, DEMO_SANDBOX: sandbox },
  });
  if (result.error) fail(`ratri mcp proxy: ${result.error.message}`);
  const answers = new Map(
    result.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .map((m) => [m.id, m]),
  );
  const problems = [
    answers.get(1)?.result?.serverInfo ? '' : 'no initialize result',
    answers.get(2)?.result?.tools?.length === 3 ? '' : 'tools/list did not list the 3 demo tools',
    answers.get(3)?.error?.code === -32001 ? '' : 'run_shell was not blocked with -32001',
    JSON.stringify(answers.get(4)?.result ?? '').includes('packed and installed') ? '' : 'read_file did not return the file',
  ].filter(Boolean);
  if (problems.length > 0) fail(`ratri mcp proxy session: ${problems.join('; ')}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}

try {
  const report = pack();
  const files = report.files.map((f) => f.path);
  checkContents(files);
  console.log(`pack:verify: ${report.filename}: ${files.length} files, ${(report.size / 1024).toFixed(0)} kB`);
  const prefix = join(work, 'prefix');
  run(npm, ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', join(work, report.filename)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const ratri = join(prefix, 'bin', 'ratri');
  const version = run(ratri, ['--version']).trim();
  if (version !== pkg.version) fail(`installed ratri --version printed "${version}", not ${pkg.version}`);
  proxySession(ratri, join(prefix, 'lib', 'node_modules', pkg.name));
  console.log(
    `pack:verify: npm install -g of the tarball gives a working ratri ${version} (a proxy session blocked run_shell, answered read_file)`,
  );
} catch (err) {
  if (!process.exitCode) {
    console.error(`pack:verify: ${err.message}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
