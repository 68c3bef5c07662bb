/** Reading a JSONL events file the proxy wrote, every line checked against schemas/event.schema.json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { expect } from 'vitest';
import { root } from './cli.js';

export interface RatriEvent {
  id: string;
  type: string;
  ts: string;
  agentKey: string;
  environment: string;
  serverName: string;
  sessionId: string;
  data: Record<string, any>;
}

export function compileEventSchema(): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true });
  return ajv.compile(JSON.parse(readFileSync(join(root, 'schemas', 'event.schema.json'), 'utf8')) as object);
}

/** Reads the JSONL file and checks every line against the schema; returns the events. */
export function readEvents(file: string, validate: ValidateFunction): { text: string; events: RatriEvent[] } {
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  const problems: string[] = [];
  const events = lines.map((line, i) => {
    const event = JSON.parse(line) as RatriEvent;
    if (!validate(event as unknown)) problems.push(`line ${i + 1} (${event.type}): ${JSON.stringify(validate.errors)}`);
    return event;
  });
  expect(problems).toEqual([]);
  return { text, events };
}
