/**
 * Infers what a tool call does (action) and what it touches (resource) from the tool's name, its
 * annotations and its arguments, so events read "write file /tmp/x" without per-tool configuration.
 */
import type { ToolAnnotations } from '../policy/tool-catalog.js';

export type Action = 'read' | 'write' | 'delete' | 'execute' | 'network' | 'other';
export type RiskLevel = 'low' | 'medium' | 'high';

export interface Resource {
  type: 'file' | 'url' | 'uri' | 'query' | 'command' | 'other';
  value: string;
}

const VERBS: Array<[Action, RegExp]> = [
  ['delete', /^(delete|remove|rm|unlink|drop|destroy|purge|erase|trash)$/],
  ['execute', /^(exec|execute|run|shell|bash|sh|spawn|eval|invoke|command|cmd|terminal)$/],
  ['network', /^(fetch|http|request|curl|download|upload|post|browse|navigate|send|email|webhook)$/],
  ['write', /^(write|create|update|edit|set|put|save|move|rename|copy|mkdir|append|insert|patch|modify|add|replace|commit|push)$/],
  ['read', /^(read|get|list|search|find|query|show|view|describe|fetch|head|tail|cat|ls|stat|info|echo|lookup|count|open|directory|tree)$/],
];

function words(tool: string): string[] {
  return tool
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** The action a tool's name says, or null when none of its words is a verb of VERBS. */
function actionOfName(tool: string): Action | null {
  for (const word of words(tool)) {
    for (const [action, re] of VERBS) if (re.test(word)) return action;
  }
  return null;
}

/** The answers of actionOfName, by tool name: a session calls few tools, many times each. */
const actionsByName = new Map<string, Action | null>();
const ACTIONS_BY_NAME_MAX = 1024;

export function inferAction(tool: string, annotations: ToolAnnotations | undefined): Action {
  let named = actionsByName.get(tool);
  if (named === undefined) {
    named = actionOfName(tool);
    if (actionsByName.size >= ACTIONS_BY_NAME_MAX) actionsByName.clear();
    actionsByName.set(tool, named);
  }
  if (named !== null) return named;
  if (annotations?.readOnlyHint === true) return 'read';
  if (annotations?.destructiveHint === true) return 'delete';
  if (annotations?.openWorldHint === true) return 'network';
  return 'other';
}

const RESOURCE_KEYS: Array<[Resource['type'], string[]]> = [
  ['file', ['path', 'file', 'filePath', 'filename', 'source', 'destination', 'dir', 'directory']],
  ['url', ['url', 'href', 'endpoint']],
  ['uri', ['uri']],
  ['command', ['command', 'cmd', 'script']],
  ['query', ['query', 'sql', 'q', 'search']],
];

export function inferResource(args: Record<string, unknown>): Resource | undefined {
  for (const [type, keys] of RESOURCE_KEYS) {
    for (const key of keys) {
      const value = args[key];
      if (typeof value === 'string' && value !== '') return { type, value: value.slice(0, 1024) };
      if (Array.isArray(value) && typeof value[0] === 'string') return { type, value: value.join(' ').slice(0, 1024) };
    }
  }
  const paths = args.paths;
  if (Array.isArray(paths) && typeof paths[0] === 'string') return { type: 'file', value: paths.join(', ').slice(0, 1024) };
  return undefined;
}

export function riskLevel(action: Action, annotations: ToolAnnotations | undefined): RiskLevel {
  if (action === 'delete' || action === 'execute' || annotations?.destructiveHint === true) return 'high';
  if (action === 'write' || action === 'network' || action === 'other') return 'medium';
  return 'low';
}
