/**
 * The facts of one call that the rules read without the store: its identity, arguments and
 * annotations, and the secrets found in its arguments when a rule has `content.secrets`. The
 * embedded and the PostgreSQL control planes add what they read from their stores (boundary,
 * definitions, earlier annotations) to these.
 */
import { argumentTexts } from '../policy/content-matcher.js';
import type { GuardRequest } from '../policy/policy-hook.js';
import type { ToolCallFacts } from '../policy/rules.js';
import type { JsonSecrets } from '../secrets/json-secrets.js';

export function callFacts(request: GuardRequest, found: JsonSecrets | undefined, needsSecrets: boolean): ToolCallFacts {
  const facts: ToolCallFacts = {
    tool: request.tool,
    serverName: request.serverName,
    environment: request.environment,
    arguments: request.arguments,
    annotations: request.annotations ?? undefined,
  };
  if (needsSecrets && found) facts.content = { texts: argumentTexts(request.arguments), secrets: found.spans };
  return facts;
}
