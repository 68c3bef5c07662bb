/** The browser tests' Chromium finder (tests/helpers/chromium.ts) on real files in a temp folder. */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findChromium, findSystemChromium } from '../helpers/chromium.js';
import { tempDir } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A folder holding `files`, each an executable script unless named in `plain`. */
function binDir(files: string[], plain: string[] = []): string {
  const dir = tempDir('ratri-chromium-');
  dirs.push(dir);
  for (const name of files) {
    writeFileSync(join(dir, name), '#!/bin/sh\n');
    chmodSync(join(dir, name), plain.includes(name) ? 0o644 : 0o755);
  }
  return dir;
}

describe('findSystemChromium', () => {
  it('takes the first of chromium, chromium-browser, google-chrome that is an executable file on PATH', () => {
    const a = binDir(['chromium'], ['chromium']);
    const b = binDir(['google-chrome', 'chromium-browser']);
    mkdirSync(join(a, 'chromium-browser')); // a folder by that name is no browser
    expect(findSystemChromium({ PATH: `${a}:${b}` })).toEqual({ executablePath: join(b, 'chromium-browser'), source: 'PATH' });
  });

  it('prefers CHROMIUM over PATH, ignores it when empty, and names it when it points at nothing', () => {
    const bin = binDir(['chromium', 'my-chrome']);
    expect(findSystemChromium({ CHROMIUM: join(bin, 'my-chrome'), PATH: bin })).toEqual({
      executablePath: join(bin, 'my-chrome'),
      source: 'CHROMIUM',
    });
    expect(findSystemChromium({ CHROMIUM: '', PATH: bin })).toEqual({ executablePath: join(bin, 'chromium'), source: 'PATH' });
    expect(() => findSystemChromium({ CHROMIUM: join(bin, 'nope'), PATH: bin })).toThrow(/^CHROMIUM=.*nope: no executable file there/);
  });

  it('finds nothing when PATH has none of them', () => {
    expect(findSystemChromium({ PATH: binDir(['firefox']) })).toBeUndefined();
  });
});

describe('findChromium', () => {
  it('falls back to the binary inside @sparticuz/chromium when the system has none', async () => {
    const found = await findChromium({ PATH: binDir([]) });
    expect(found.source).toBe('@sparticuz/chromium');
    expect(findSystemChromium({ CHROMIUM: found.executablePath })?.executablePath).toBe(found.executablePath);
  }, 120_000); // the first run on a machine unpacks the binary
});
