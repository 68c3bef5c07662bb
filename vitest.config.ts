import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end suites spawn real processes; two workers match the CI machine's two cores.
    maxWorkers: 2,
    // Every ratri the tests start keeps its default store here, never in the user's ~/.ratri.
    env: { RATRI_HOME: mkdtempSync(join(tmpdir(), 'ratri-test-home-')) },
    // The JSON report lets .ci/run print a one-line "N passed, N failed" summary.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
