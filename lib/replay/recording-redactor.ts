/**
 * What `--record` writes of one frame (docs/golden-files.md, "What a recording contains"). A
 * recording is meant to be shared (attached to a bug report, turned into a golden file), so the
 * values of `redactKeys` are replaced by "[REDACTED]", as in every other sink, in the frame's own
 * text (`redact-json-text.ts`): every other byte is kept, so a redacted recording replays as the
 * session went. A frame that is not JSON cannot be searched for keys, so it is withheld, and so is the
 * -32700 answer to it, whose message quotes it. Detected secret values (docs/secrets.md) become
 * "[REDACTED:<rule>]" in the same way, only the strings that held them rewritten; a frame the
 * prefilter lets through waits for secretlint (the answer is then a promise). `--record-unredacted`
 * keeps every frame as it was.
 */
import { isUtf8 } from 'node:buffer';
import { ProxyErrorCode } from '../jsonrpc/errors.js';
import type { FindSecrets } from '../secrets/find-secrets.js';
import { findJsonSecrets, type JsonSecrets, redactJsonSecrets } from '../secrets/json-secrets.js';
import { redactJsonText } from './redact-json-text.js';

export type RecordedFrame =
  /** The bytes to record; `redacted` when they are not the frame's own. */
  | { bytes: Buffer; redacted: boolean }
  /** Nothing of the frame is recorded, for this reason. */
  | { withheld: string };

/** Decides what is recorded of each frame; with no `redactKeys` and no `findSecrets`, every frame as it is. */
export function makeFrameRedactor(
  redactKeys: string[],
  findSecrets?: FindSecrets,
): (frame: Buffer) => RecordedFrame | Promise<RecordedFrame> {
  if (redactKeys.length === 0 && !findSecrets) return (frame) => ({ bytes: frame, redacted: false });
  return (frame) => {
    if (!isUtf8(frame)) return { withheld: `not UTF-8 (${frame.length} bytes), so it cannot be redacted` };
    const text = frame.toString('utf8');
    if (text.trim() === '') return { bytes: frame, redacted: false };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { withheld: `not JSON (${frame.length} bytes), so it cannot be redacted` };
    }
    if (answersParseError(value)) return { withheld: 'a -32700 answer, whose message quotes a frame that was not JSON' };
    const redacted = redactKeys.length > 0 ? redactJsonText(text, redactKeys) : { text, changed: false };
    const recorded = (secrets: JsonSecrets | undefined): RecordedFrame => {
      const final = secrets ? redactJsonSecrets(redacted.text, secrets) : { text: redacted.text, changed: false };
      if (!redacted.changed && !final.changed) return { bytes: frame, redacted: false };
      return { bytes: Buffer.from(final.text, 'utf8'), redacted: true };
    };
    if (!findSecrets) return recorded(undefined);
    const found = findJsonSecrets(redacted.text, findSecrets);
    return found instanceof Promise
      ? found.then(recorded, () => ({ withheld: 'the secret scan failed, so it cannot be redacted' }))
      : recorded(found);
  };
}

/** True for a -32700 error answer (or a batch holding one). */
function answersParseError(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(answersParseError);
  const error = (value as { error?: { code?: unknown } } | null)?.error;
  return typeof error === 'object' && error !== null && error.code === ProxyErrorCode.parseError;
}
