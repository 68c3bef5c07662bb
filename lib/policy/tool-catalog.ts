/**
 * What the proxy knows about the upstream's tools, from the last `tools/list` answer: their
 * annotations (rules can match them) and definitions (telemetry registers them).
 */

export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
  title?: string;
}

export interface ToolDefinition {
  name: string;
  description?: string;
  inputSchema?: unknown;
  annotations?: ToolAnnotations;
}

export class ToolCatalog {
  private readonly tools = new Map<string, ToolDefinition>();

  /**
   * Adds or updates the tools of one `tools/list` page (lists are paginated, so tools missing from a
   * page are kept). Definition changes are the control plane's to judge (lib/control/tool-registry.ts).
   */
  register(tools: ToolDefinition[]): void {
    for (const tool of tools) this.tools.set(tool.name, tool);
  }

  annotations(name: string): ToolAnnotations | undefined {
    return this.tools.get(name)?.annotations;
  }

  /** As the policy reads them: `{}` for a tool listed without annotations, undefined for one never listed. */
  listedAnnotations(name: string): ToolAnnotations | undefined {
    const tool = this.tools.get(name);
    return tool && (tool.annotations ?? {});
  }
}

/** Reads tool definitions out of a `tools/list` result, skipping malformed entries; undefined when it has no tool list. */
export function toolsFromListResult(result: unknown): ToolDefinition[] | undefined {
  const tools = (result as { tools?: unknown } | null | undefined)?.tools;
  if (!Array.isArray(tools)) return undefined;
  return tools.filter(
    (t): t is ToolDefinition => t !== null && typeof t === 'object' && typeof (t as { name?: unknown }).name === 'string',
  );
}
