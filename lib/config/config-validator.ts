/**
 * The JSON Schema validator of `ratri.mcp.json`. The build generates it as standalone code
 * (scripts/standalone-validator.mjs writes dist/lib/config/config-validator.generated.js), so a
 * proxy start loads a finished function instead of loading ajv and compiling the schemas every time
 * (docs/performance.md#start-up). Run from the TypeScript sources (the unit tests), where nothing is
 * generated, the same schemas are compiled with the same options here; both give the same errors.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { compileConfigSchemas, GENERATED_VALIDATOR } from './config-schemas.js';

async function loadValidator(): Promise<ValidateFunction> {
  const generated = new URL(`./${GENERATED_VALIDATOR}`, import.meta.url);
  if (existsSync(fileURLToPath(generated))) return ((await import(generated.href)) as { default: ValidateFunction }).default;
  const { Ajv } = await import('ajv');
  return compileConfigSchemas(Ajv).validate;
}

export const configValidator: ValidateFunction = await loadValidator();
