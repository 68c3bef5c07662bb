import { describe, expect, it } from 'vitest';
import { truncateText } from '../../lib/telemetry/truncate-text.js';
import { FAKE } from '../helpers/fake-secrets.js';

describe('truncateText (long strings in events)', () => {
  it('keeps a string that fits, and cuts a long one at the limit when the cut falls between words', () => {
    expect(truncateText('short', 10)).toBe('short');
    expect(truncateText('aaaa bbbb cccc', 5)).toBe('aaaa …[truncated 9 chars]');
  });

  it('never keeps the first part of a token the cut falls into', () => {
    const text = `${'x '.repeat(20)}${FAKE.github} tail`;
    const cut = truncateText(text, 50); // inside the token
    expect(cut.startsWith('x '.repeat(20))).toBe(true);
    expect(cut).not.toContain(FAKE.github.slice(0, 6));
  });

  it('leaves out a PEM block whose END line would be cut off, and keeps one that fits whole', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----';
    const cut = truncateText(`key: ${pem} and more words after it`, 60);
    expect(cut).toBe(`key: …[truncated ${pem.length + 24} chars]`);
    const whole = truncateText(`key: ${pem} and more words after it`, pem.length + 10);
    expect(whole).toContain('-----END PRIVATE KEY-----');
  });
});
