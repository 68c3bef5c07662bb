/**
 * Which top-level arguments a tool declares in its `inputSchema`, for the rules check
 * (docs/doctor.md): a rule condition on an argument that a tool does not take can never hold for
 * that tool, so the doctor neither claims the rule may decide its calls nor stays silent when the
 * rule can match no tool at all (often a misspelt argument name).
 */
import type { RuleConfig } from '../config/types.js';
import { topLevelNames } from '../policy/arg-path.js';
import type { ToolDefinition } from '../policy/tool-catalog.js';

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Keywords that can let a schema take names its `properties` do not list. */
const OPEN_KEYWORDS = ['patternProperties', 'allOf', 'anyOf', 'oneOf', 'if', '$ref', 'dependencies', 'dependentSchemas'];

/**
 * The argument names the tool declares, or undefined when its schema may take any name (no schema,
 * `additionalProperties` other than false, or keywords that add names). A schema with no
 * `properties` declares none.
 */
export function declaredArguments(tool: ToolDefinition): string[] | undefined {
  const schema = tool.inputSchema;
  if (!isObject(schema)) return undefined;
  if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) return undefined;
  if (OPEN_KEYWORDS.some((k) => k in schema)) return undefined;
  return isObject(schema.properties) ? Object.keys(schema.properties) : [];
}

/**
 * The rule's `args` paths that the tool does not take. `exists: false` never counts: a missing
 * argument is exactly what it looks for.
 */
export function argumentsNotTaken(rule: RuleConfig, tool: ToolDefinition): string[] {
  const declared = declaredArguments(tool);
  if (!rule.args || declared === undefined) return [];
  return Object.entries(rule.args).flatMap(([path, matcher]) => {
    if (matcher.exists === false) return [];
    const names = topLevelNames(path);
    const taken = names === undefined ? declared.length > 0 : names.some((n) => declared.includes(n));
    return taken ? [] : [path];
  });
}
