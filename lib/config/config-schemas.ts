/**
 * The config schemas compiled with ajv: schemas/ratri.mcp.schema.json, which refers to
 * guardrails.schema.json. Used by the build, which writes the result as standalone code
 * (scripts/standalone-validator.mjs), and by config-validator.ts when run from the sources.
 */
import type { Ajv, Options, ValidateFunction } from 'ajv';
import { readSchema } from '../node/package-files.js';

/** What the generated file is called, in dist/lib/config/. */
export const GENERATED_VALIDATOR = 'config-validator.generated.js';

/** Every problem at once; strict about the schemas themselves. */
const AJV_OPTIONS: Options = { allErrors: true, strict: true, strictRequired: false };

/** An ajv instance holding the config schemas, and the compiled validator of ratri.mcp.json. `extra` is for the build (`code`). */
export function compileConfigSchemas(AjvClass: typeof Ajv, extra: Options = {}): { ajv: Ajv; validate: ValidateFunction } {
  const ajv = new AjvClass({ ...AJV_OPTIONS, ...extra });
  ajv.addSchema(readSchema('guardrails.schema.json'));
  return { ajv, validate: ajv.compile(readSchema('ratri.mcp.schema.json')) };
}
