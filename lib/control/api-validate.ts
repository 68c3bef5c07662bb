/**
 * Request bodies of the control-plane API, checked with ajv against schemas/api/*.json. A problem
 * is described the way config errors are: the field's path, then what is wrong with it.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { readSchema } from '../node/package-files.js';

/** The body schemas, by the file name in schemas/api/. */
export type BodySchema = 'guard-evaluate.json' | 'events.json' | 'tools-define.json' | 'approval-resolve.json';

const SCHEMAS: BodySchema[] = ['guard-evaluate.json', 'events.json', 'tools-define.json', 'approval-resolve.json'];

/** How many problems one answer lists (a batch of 500 bad events would otherwise make a huge message). */
const MAX_PROBLEMS = 5;

/** A JSON pointer as a field path: `/keys/0/id` is `keys[0].id`. */
export function fieldPath(instancePath: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

const withArticle = (type: string): string => (/^[aeiou]/.test(type) ? `an ${type}` : type === 'null' ? 'null' : `a ${type}`);

/** One schema error as "field: what is wrong" (also used for the keys file, keys-file.ts). */
export function describeSchemaError(error: ErrorObject): string {
  const at = fieldPath(error.instancePath);
  const child = (name: string): string => (at ? `${at}.${name}` : name);
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${child(String(p.missingProperty))}: is required`;
    case 'additionalProperties':
      return `${child(String(p.additionalProperty))}: is not a field of this body`;
    case 'type':
      return `${at || 'the body'}: must be ${String(p.type).split(',').map(withArticle).join(' or ')}`;
    case 'enum':
      return `${at}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'minLength':
      return `${at}: must not be empty`;
    case 'maxItems':
      return `${at}: must have at most ${String(p.limit)} items (send several requests)`;
    default:
      return `${at || 'the body'}: ${error.message ?? 'is invalid'}`;
  }
}

/** Validates request bodies. */
export class BodyValidator {
  private readonly validators = new Map<BodySchema, ValidateFunction>();

  constructor() {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    for (const name of SCHEMAS) this.validators.set(name, ajv.compile(readSchema(`api/${name}`)));
  }

  /** Undefined when `body` is valid, else one sentence naming each wrong field and why. */
  problem(schema: BodySchema, body: unknown): string | undefined {
    const validate = this.validators.get(schema)!;
    if (validate(body)) return undefined;
    const problems = [...new Set((validate.errors ?? []).map(describeSchemaError))];
    const shown = problems.slice(0, MAX_PROBLEMS).join('; ');
    const more = problems.length > MAX_PROBLEMS ? `; and ${problems.length - MAX_PROBLEMS} more` : '';
    return `the request body is invalid: ${shown}${more}`;
  }
}
