/**
 * The secret detector (lib/secrets/): secretlint's rules behind a prefilter that must never hide a
 * secret a rule reports. secretlint's own test vectors (tests/fixtures/secretlint-vectors.json, from
 * secretlint v12.0.0) are run through secretlint and the prefilter, raw and as JSON text.
 */
import { readFileSync } from 'node:fs';
import { lintSource } from '@secretlint/core';
import { rules as presetRules } from '@secretlint/secretlint-rule-preset-recommend';
import { describe, expect, it, vi } from 'vitest';
import { findSecrets, secretFinder } from '../../lib/secrets/find-secrets.js';
import { findJsonSecrets, findValueSecrets, redactJsonSecrets, redactValueSecrets } from '../../lib/secrets/json-secrets.js';
import { makePrefilter, RULE_FRAGMENTS } from '../../lib/secrets/prefilter.js';
import { SECRET_RULES, shortRuleName } from '../../lib/secrets/rule-names.js';
import { secretlintConfig } from '../../lib/secrets/secret-rules.js';
import { FAKE } from '../helpers/fake-secrets.js';

interface Vector {
  rule: string;
  name: string;
  file: string;
  input: string;
}
const { vectors } = JSON.parse(readFileSync(new URL('../fixtures/secretlint-vectors.json', import.meta.url), 'utf8')) as {
  vectors: Vector[];
};

/** What secretlint alone reports in a text (no prefilter), as short rule names. */
async function secretlintFinds(text: string, ext: string): Promise<string[]> {
  const source = { content: text, filePath: `v${ext}`, ext, contentType: 'text' as const };
  const result = await lintSource({ source, options: { config: secretlintConfig([]), noPhysicFilePath: true } });
  return result.messages.map((m) => shortRuleName(m.ruleId));
}

describe('the rule names', () => {
  it("are the installed preset's rules (less filter-comments) and jwt, in order, so the config loader needs no secretlint", () => {
    const preset = presetRules.map((r) => shortRuleName(r.meta.id)).filter((name) => name !== 'filter-comments');
    expect(SECRET_RULES).toEqual([...preset, 'jwt']);
  });
});

describe('the prefilter', () => {
  it('has a fragment for every rule ratri runs, and none for a rule it does not', () => {
    expect(Object.keys(RULE_FRAGMENTS).sort()).toEqual([...SECRET_RULES].sort());
  });

  it("lets through every one of secretlint's test vectors that a rule reports, raw and as JSON text", async () => {
    let reported = 0;
    for (const v of vectors) {
      const ext = v.file.includes('.') ? v.file.slice(v.file.indexOf('.')) : '';
      for (const [text, at] of [
        [v.input, ext],
        [JSON.stringify({ text: v.input }), '.json'],
      ] as const) {
        const rules = await secretlintFinds(text, at);
        for (const rule of new Set(rules)) {
          reported++;
          expect(makePrefilter([rule])(text), `${v.rule}/${v.name}: rule ${rule}`).toBe(true);
          expect(makePrefilter(SECRET_RULES)(text), `${v.rule}/${v.name}: all rules`).toBe(true);
        }
      }
    }
    // Most vectors are secrets: the loop above really checked something.
    expect(reported).toBeGreaterThan(60);
  });

  it('stops ordinary text, so the common case never runs secretlint', () => {
    const ordinary = JSON.stringify({
      path: '/tmp/notes/readme.md',
      content: 'Meeting at 10, bring the report. https://example.com/a?b=c',
    });
    expect(makePrefilter(SECRET_RULES)(ordinary)).toBe(false);
    expect(findSecrets(ordinary)).toEqual([]); // synchronous: not a promise
  });

  it('lets everything through when a rule has no fragment (a rule a newer preset added)', () => {
    expect(makePrefilter(['a-rule-with-no-fragment'])('hello')).toBe(true);
  });
});

describe('the prefilter on a parsed value, string by string', () => {
  const find = secretFinder();
  const spansOf = async (value: unknown, stored = false): Promise<string[]> =>
    (await findValueSecrets(value, find, stored)).spans.map((s) => s.ruleId).sort();
  const spansOfText = async (value: unknown): Promise<string[]> =>
    (await findJsonSecrets(JSON.stringify(value), find)).spans.map((s) => s.ruleId).sort();

  it('rests on fragments none of whose matches can hold a quote, so no match runs from one string into the next', () => {
    for (const [rule, fragment] of Object.entries(RULE_FRAGMENTS)) {
      // A quote, a wildcard dot, a negated class, or an escape for "any character but …" could match a `"`.
      expect(fragment, rule).not.toMatch(/"|(?<!\\)\.|\[\^|\\[WSDBbxuc]/);
    }
  });

  it("finds in a value what the scan of its JSON text finds, for each of secretlint's test vectors, in a value, a key and an array", async () => {
    let found = 0;
    for (const v of vectors) {
      for (const value of [{ text: v.input }, { [v.input]: 1 }, { a: [1, null, true, { b: v.input }] }]) {
        const spans = await spansOf(value);
        expect(spans, `${v.rule}/${v.name}`).toEqual(await spansOfText(value));
        expect(await spansOf(value, true), `${v.rule}/${v.name}, stored`).toEqual(spans);
        found += spans.length;
      }
    }
    expect(found).toBeGreaterThan(60);
  });

  it('finds a token after a decoded newline, in a member name, and nothing in numbers, true, false and null', async () => {
    expect(await spansOf({ text: `line one\n${FAKE.github}` })).toEqual(['github']);
    expect(await spansOf({ [`k ${FAKE.github}`]: [1.5e21, -0, true, false, null] })).toEqual(['github']);
    expect(await spansOf({ n: [1.5e21, -0, true, false, null], s: 'plain' })).toEqual([]);
  });

  it('answers a value with no secret without writing its JSON text, and writes it when asked', () => {
    const value = { message: 'hello', parts: [{ k: 'ended', ts: 1796137649846, f: { resultSize: 113 } }] };
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      const found = findValueSecrets(value, find);
      expect(found).not.toBeInstanceOf(Promise);
      expect(stringify).not.toHaveBeenCalled();
      expect((found as Awaited<typeof found>).spans).toEqual([]);
      expect((found as Awaited<typeof found>).json).toBe(JSON.stringify(value));
    } finally {
      stringify.mockRestore();
    }
  });

  it('remembers short clean strings and gives the prefilter its own answer for every string, past a full memo', () => {
    const texts = Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? `${FAKE.github}${i}` : `plain ${i}`));
    texts.push('x'.repeat(100), `${'x'.repeat(100)}${FAKE.github}`);
    for (const round of [1, 2]) {
      for (const t of texts) expect(find.mayHoldRemembered(t), `${t} (round ${round})`).toBe(find.mayHold(t));
    }
  });
});

describe('findSecrets', () => {
  it('finds tokens, JWTs, connection strings with passwords and private keys in JSON text, with their spans', async () => {
    const text = JSON.stringify({ a: `token ${FAKE.github}`, b: FAKE.jwt, c: FAKE.postgres, d: FAKE.privateKey });
    const spans = await findSecrets(text);
    const rules = spans.map((s) => s.ruleId);
    expect(rules).toEqual(expect.arrayContaining(['github', 'jwt', 'database-connection-string', 'privatekey']));
    const github = spans.find((s) => s.ruleId === 'github')!;
    expect(text.slice(github.start, github.end)).toBe(FAKE.github);
  });

  it('does not apply a disabled rule', async () => {
    const text = JSON.stringify({ a: FAKE.github, b: FAKE.jwt });
    const spans = await findSecrets(text, { disabledRules: ['github'] });
    expect(spans.map((s) => s.ruleId)).toEqual(['jwt']);
    expect(await findSecrets(text, { disabledRules: ['github', 'jwt'] })).toEqual([]);
  });

  it('cannot be switched off by a secretlint-disable comment inside the scanned text', async () => {
    const text = `// secretlint-disable-line ${FAKE.github}`;
    expect((await findSecrets(text)).map((s) => s.ruleId)).toEqual(['github']);
  });
});

describe('secrets in JSON text', () => {
  const find = secretFinder();

  it('reads strings decoded: a token after an escaped newline or spelled with escapes is found', async () => {
    const escaped = `{"text":"line one\\n${FAKE.github}","url":"postgres:\\/\\/app:pw1234@db.test\\/x","u":"\\u0067${FAKE.github.slice(1)}"}`;
    expect(JSON.parse(escaped)).toBeTypeOf('object');
    const found = await findJsonSecrets(escaped, find);
    expect(found.spans.map((s) => s.ruleId).sort()).toEqual(['database-connection-string', 'github', 'github']);
  });

  it('replaces each secret by [REDACTED:<rule>] and keeps every other byte', async () => {
    const json = `{ "note" : "see ${FAKE.github} here",\n  "n": 1.50, "keep": "plain" }`;
    const redacted = redactJsonSecrets(json, await findJsonSecrets(json, find));
    expect(redacted).toEqual({ changed: true, text: `{ "note" : "see [REDACTED:github] here",\n  "n": 1.50, "keep": "plain" }` });
  });

  it('redacts the whole value when a rule reports from the key name on, and keeps the key', async () => {
    const value = { aws_secret_access_key: `wJalrXUtnFEMI/K7MDENG/bPxRfiCY${'Q'.repeat(10)}` };
    const redacted = await redactValueSecrets(value, find);
    expect(redacted).toEqual({ aws_secret_access_key: '[REDACTED:aws]' });
  });

  it('redacts only the value a match starts in, when the match runs on past its closing quote', async () => {
    // The connection-string rule lets a match run up to 100 characters past the URI, over the quote
    // and into the members after it; those members hold no secret and must stay as they are.
    const value = { path: 'postgres://app:s3cretPassw0rd@db.internal.test:5432/app', riskLevel: 'low', kind: 'call', n: 'x' };
    const redacted = await redactValueSecrets(value, find);
    expect(redacted).toEqual({ path: '[REDACTED:database-connection-string]', riskLevel: 'low', kind: 'call', n: 'x' });
    const inText = {
      content: [
        { type: 'text', text: 'db: postgres://app:s3cretPassw0rd@db.test/app' },
        { type: 'text', text: 'fine' },
      ],
    };
    expect(await redactValueSecrets(inText, find)).toEqual({
      content: [
        { type: 'text', text: 'db: [REDACTED:database-connection-string]' },
        { type: 'text', text: 'fine' },
      ],
    });
  });

  it('redacts a private key inside a file text, and nothing of a value with no secret', async () => {
    const value = { content: [{ type: 'text', text: `key:\n${FAKE.privateKey}\nend` }] };
    const redacted = (await redactValueSecrets(value, find)) as typeof value;
    expect(redacted.content[0]!.text).toBe('key:\n[REDACTED:privatekey]\n\nend');
    const plain = { a: 'b' };
    expect(redactValueSecrets(plain, find)).toBe(plain);
  });
});

describe("secretlint's profile", () => {
  it('keeps nothing of the runs, so a long-running proxy does not grow with every scan', async () => {
    const { performance } = await import('node:perf_hooks');
    const text = `token ${FAKE.github}`;
    await findSecrets(text); // loads secretlint (lazily) and silences its profiler
    // Marks left by the tests above, which call secretlint directly with its profiler on.
    performance.clearMarks();
    performance.clearMeasures();
    for (let i = 0; i < 50; i++) await findSecrets(text);
    await new Promise((r) => setTimeout(r, 10)); // the profiler's observer runs after the marks
    await findSecrets(text);
    const left = performance.getEntries().filter((e) => e.name.startsWith('@')).length;
    expect(left).toBeLessThan(100); // about thirty per run: fifty runs kept would be 1500
  });
});
