/**
 * The relay sits on the ground floor (docs/architecture.md, "Floors"): lib/relay/ imports framing,
 * jsonrpc, policy and lib/node only, and its own files, never control, telemetry, config, session,
 * transport or the proxy. This reads the import lines of every lib/relay/*.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const RELAY = join(import.meta.dirname, '../../lib/relay');
const ALLOWED = /^(\.\/[\w-]+\.js|\.\.\/(framing|jsonrpc|policy|node)\/[\w-]+\.js|node:[\w/]+)$/;

/** Every module specifier a file imports or re-exports. */
function importsOf(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm), ...text.matchAll(/^\s*import\s+'([^']+)'/gm)].map(
    (m) => m[1] as string,
  );
}

describe('lib/relay imports', () => {
  const files = readdirSync(RELAY).filter((f) => f.endsWith('.ts'));

  it('finds the relay files', () => {
    expect(files).toContain('interceptor.ts');
    expect(files).toContain('ports.ts');
  });

  it('reads every kind of import line (so a forbidden one cannot slip past)', () => {
    const sample =
      "import type { Telemetry } from '../telemetry/telemetry.js';\nimport {\n  a,\n  b,\n} from '../config/types.js';\nexport { c } from '../control/store.js';\nimport './side-effect.js';\n";
    expect(importsOf(sample)).toEqual(['../telemetry/telemetry.js', '../config/types.js', '../control/store.js', './side-effect.js']);
    expect(importsOf(sample).filter((i) => !ALLOWED.test(i))).toEqual([
      '../telemetry/telemetry.js',
      '../config/types.js',
      '../control/store.js',
    ]);
  });

  it.each(files)('%s imports only framing, jsonrpc, policy, node and the relay', (file) => {
    const imports = importsOf(readFileSync(join(RELAY, file), 'utf8'));
    expect(imports.filter((i) => !ALLOWED.test(i))).toEqual([]);
  });
});
