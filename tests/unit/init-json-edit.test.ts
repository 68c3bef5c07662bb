// The text edits ratri init makes to a host's config: only the entry's command and args change,
// written in the layout of the old ones, every other byte kept (docs/hosts.md#ratri-init).
import { describe, expect, it } from 'vitest';
import { applyEdits, replaceCommand } from '../../lib/init/json-edit.js';
import { nodeAt, plainValue, readJsonDocument } from '../../lib/init/json-spans.js';

function rewrite(text: string, path: string[], command: string, args: string[]): string {
  const doc = readJsonDocument(text);
  return applyEdits(text, replaceCommand(text, nodeAt(doc.root, path)!, command, args));
}

describe('ratri init text edits', () => {
  it('keeps a one-line args array on one line and everything else byte for byte', () => {
    const text =
      '{\n  "mcpServers": {\n    "a": { "command": "npx",  "args": ["-y", "x"], "env": {"K": "v"} },\n    "b": {"command":"keep"}\n  }\n}\n';
    expect(rewrite(text, ['mcpServers', 'a'], '/n', ['r.js', 'mcp'])).toBe(
      '{\n  "mcpServers": {\n    "a": { "command": "/n",  "args": ["r.js", "mcp"], "env": {"K": "v"} },\n    "b": {"command":"keep"}\n  }\n}\n',
    );
  });

  it('writes one item per line with the old indentation, and keeps CRLF line ends', () => {
    const text = '{\r\n\t"s": {\r\n\t\t"command": "docker",\r\n\t\t"args": [\r\n\t\t\t"run"\r\n\t\t]\r\n\t}\r\n}';
    expect(rewrite(text, ['s'], '/n', ['a', 'b'])).toBe(
      '{\r\n\t"s": {\r\n\t\t"command": "/n",\r\n\t\t"args": [\r\n\t\t\t"a",\r\n\t\t\t"b"\r\n\t\t]\r\n\t}\r\n}',
    );
  });

  it("adds args after command when the entry had none, at the members' indentation", () => {
    const text = '{\n    "s": {\n        "command": "server",\n        "env": {}\n    }\n}';
    const out = rewrite(text, ['s'], '/n', ['r.js']);
    expect(out).toBe('{\n    "s": {\n        "command": "/n",\n        "args": ["r.js"],\n        "env": {}\n    }\n}');
    expect(plainValue(readJsonDocument(out).root)).toEqual({ s: { command: '/n', args: ['r.js'], env: {} } });
  });

  it('reads JSONC and says so, so the file is not rewritten', () => {
    const doc = readJsonDocument('{\n  // a comment\n  "a": [1, 2,],\n  "u": "http://x/*y*/"\n}');
    expect(doc.hasComments).toBe(true);
    expect(doc.hasTrailingCommas).toBe(true);
    expect(plainValue(doc.root)).toEqual({ a: [1, 2], u: 'http://x/*y*/' });
    expect(readJsonDocument('{"u": "http://x"}').hasComments).toBe(false);
  });
});
