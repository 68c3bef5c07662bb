/**
 * Conformance parity in the 2026-07-28 era: the official `@modelcontextprotocol/conformance`
 * 0.2.0-alpha.12 server scenarios (`--suite all`, once with `--spec-version 2026-07-28` and once with
 * `--spec-version 2025-11-25`), run with a Node 22 binary installed into a cache folder
 * (tests/helpers/modern-conformance.ts), against a v2-SDK scenario server served over HTTP by the
 * SDK itself ("direct") and against the same server over stdio behind ratri's HTTP front in enforce
 * mode (no rules). Every scenario, and every successful check, that passes directly must pass
 * through ratri.
 *
 * The last test shows the comparison can fail, with a difference that is there by design: in
 * monitor mode ratri forwards a POST whose Mcp-Method/Mcp-Name headers disagree with its body (it only
 * logs it), so `http-header-validation`, which passes directly, must be reported as a regression.
 *
 * Counts are written to test-results/conformance-modern.json and recorded in docs/conformance.md.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, tempDir } from '../helpers/cli.js';
import {
  type ConformanceRun,
  parityRegressions,
  parityTable,
  runConformance,
  startRatriHttp,
  startScenarioServerHttp,
  type Target,
  totals,
} from '../helpers/conformance.js';
import { ensureModernConformance, type ModernRunner, writeModernScenarioServer } from '../helpers/modern-conformance.js';

const dir = tempDir('ratri-conformance-modern-');
const targets: Target[] = [];
const report: Record<string, unknown> = {};
let runner: ModernRunner;
let server: string;
let directTarget: Target;
const direct = new Map<string, ConformanceRun>();

const run = (url: string, out: string, spec: string): Promise<ConformanceRun> =>
  runConformance(url, join(dir, out), 'all', 150_000, { ...runner, args: ['--spec-version', spec] });

beforeAll(async () => {
  runner = ensureModernConformance();
  server = writeModernScenarioServer(join(dir, 'server'));
  directTarget = await startScenarioServerHttp(server);
  targets.push(directTarget);
  for (const spec of ['2026-07-28', '2025-11-25']) direct.set(spec, await run(directTarget.url, `direct-${spec}`, spec));
}, 300_000);

afterAll(async () => {
  for (const t of targets.splice(0)) await t.stop();
  mkdirSync(join(root, 'test-results'), { recursive: true });
  writeFileSync(
    join(root, 'test-results', 'conformance-modern.json'),
    JSON.stringify(report, (_k, v) => (v instanceof Map ? Object.fromEntries(v) : v), 2),
  );
  rmSync(dir, { recursive: true, force: true });
});

describe('MCP conformance 0.2 server scenarios, v2 scenario server', () => {
  it.each(['2026-07-28', '2025-11-25'])(
    'passes through ratri (enforce) every %s scenario that passes directly',
    async (spec) => {
      const base = direct.get(spec)!;
      const tb = totals(base.results);
      // A baseline that collapsed (crashed runner, wrong URL) would make parity trivially true.
      expect(tb.scenarios, base.stdout.slice(-2000)).toBeGreaterThanOrEqual(spec === '2026-07-28' ? 40 : 20);
      expect(tb.ok).toBeGreaterThanOrEqual(spec === '2026-07-28' ? 20 : 18);
      // The 2026-07-28 scenarios that only a stateless server passes must pass directly, or parity proves little
      // (server-stateless itself fails directly on its -32021 capability checks, which need a diagnostic tool).
      const names =
        spec === '2026-07-28'
          ? ['http-header-validation', 'caching', 'sep-2164-resource-not-found', 'tools-call-with-progress']
          : ['tools-list'];
      for (const name of names) expect(base.results.get(name)?.ok, `${name} directly: ${base.results.get(name)?.error}`).toBe(true);

      const ratri = await startRatriHttp(join(dir, `ratri-${spec}`), [server, 'stdio'], [], 'enforce');
      targets.push(ratri);
      const through = await run(ratri.url, `ratri-${spec}/results`, spec);
      const regressions = parityRegressions(base.results, through.results);
      const tt = totals(through.results);
      console.log(
        `conformance 0.2 (${spec}) direct: ${tb.ok}/${tb.scenarios} scenarios pass (${tb.checksPassed} checks passed, ${tb.checksFailed} failed)`,
      );
      console.log(
        `conformance 0.2 (${spec}) through ratri: ${tt.ok}/${tt.scenarios} scenarios pass (${tt.checksPassed} checks passed, ${tt.checksFailed} failed)`,
      );
      console.log(parityTable([...base.results.keys()], base.results, through.results, 'ratri (enforce)'));
      report[spec] = { direct: { totals: tb, results: base.results }, ratri: { totals: tt, results: through.results }, regressions };
      expect(regressions, `${regressions.length} regression(s) through ratri; ratri stderr:\n${ratri.stderr().slice(-3000)}`).toEqual([]);
    },
    300_000,
  );

  it('reports http-header-validation as a regression through ratri in monitor mode, which forwards mismatched headers', async () => {
    const ratri = await startRatriHttp(join(dir, 'ratri-monitor'), [server, 'stdio'], [], 'monitor');
    targets.push(ratri);
    const through = await runConformance(ratri.url, join(dir, 'ratri-monitor', 'results'), 'all', 150_000, {
      ...runner,
      args: ['--spec-version', '2026-07-28', '--scenario', 'http-header-validation'],
    });
    const base = direct.get('2026-07-28')!;
    const only = new Map([['http-header-validation', base.results.get('http-header-validation')!]]);
    const regressions = parityRegressions(only, through.results);
    report.monitorHeaders = { regressions };
    expect(regressions.map((r) => r.scenario)).toEqual(['http-header-validation']);
    expect(ratri.stderr()).toContain('monitor mode: forwarded a POST whose headers disagree with its body');
  }, 300_000);
});
