/**
 * `hideBlockedTools` (docs/policy.md#hiding-blocked-tools): in enforce mode, a `tools/list` answer
 * loses the tools that a rule blocks on every call — a call-phase `block` rule (or
 * `block_destructive_tools`) that matches the tool with no `args` condition, for this server and
 * environment. Only an answer that loses a tool is re-serialized; any other goes on as its bytes.
 */
import type { GuardrailsConfig, ProxyConfig } from '../config/types.js';
import { Message, type ParsedMessage } from '../jsonrpc/message.js';
import { evaluateRules, isResultRule } from './rules.js';
import type { ToolDefinition } from './tool-catalog.js';

export class BlockedToolsFilter {
  /** The rules that judge a call by its tool alone: those that can block every call to one. */
  private readonly everyCall: GuardrailsConfig;

  constructor(private readonly config: ProxyConfig) {
    this.everyCall = {
      rules: config.guardrails.rules.filter((rule) =>
        'template' in rule ? rule.template === 'block_destructive_tools' : !isResultRule(rule) && rule.args === undefined,
      ),
    };
  }

  /** Whether every call to this listed tool would be blocked. */
  blocksEveryCall(tool: ToolDefinition): boolean {
    const { serverName, environment } = this.config;
    const facts = { tool: tool.name, serverName, environment, arguments: {}, annotations: tool.annotations ?? {} };
    return evaluateRules(this.everyCall, facts).decision === 'block';
  }

  /**
   * The frame the host gets for a `tools/list` answer: undefined when nothing is hidden (its bytes go
   * on). A frame another reader could read differently is always re-serialized, so the host reads
   * the list the filter read.
   */
  filter(message: ParsedMessage, ambiguous: boolean): Buffer | undefined {
    const value = message.value;
    if (!Message.isResponse(value) || !Message.isObject(value.result) || !Array.isArray(value.result.tools)) return undefined;
    const tools = value.result.tools as unknown[];
    const kept = tools.filter(
      (t) => !(Message.isObject(t) && typeof t.name === 'string' && this.blocksEveryCall(t as unknown as ToolDefinition)),
    );
    if (kept.length === tools.length && !ambiguous) return undefined;
    const result = { ...value.result, tools: kept };
    return Buffer.from(`{"jsonrpc":"2.0","id":${message.rawId},"result":${JSON.stringify(result)}}`);
  }
}
