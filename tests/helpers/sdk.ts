/** Helpers for tests that talk to the proxy through the official SDK client. */
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';

/** The text parts of a tool result, joined. */
export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('');
}

/** The McpError a call is rejected with; fails the test when the call succeeds. */
export async function callError(promise: Promise<unknown>): Promise<McpError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(McpError);
    return err as McpError;
  }
  throw new Error('expected the call to be rejected');
}
