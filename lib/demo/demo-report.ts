/**
 * How `ratri demo` reads on screen: the intro, one line per step, the table of calls from the
 * store, the verdict and what to do next. Plain text; colour only when the caller says (a TTY).
 */
import { join } from 'node:path';
import type { RuleConfig, TemplateConfig } from '../config/types.js';
import { packageRoot } from '../node/package-files.js';
import { type Colour, type Column, paint, renderTable } from '../report/text-table.js';
import type { CallRow } from './demo-events.js';
import type { DemoSummary } from './demo-run.js';
import type { DemoStep, StepMark } from './demo-session.js';
import type { DemoWorkspace } from './demo-workspace.js';

const MARKS: Record<StepMark, [string, Colour]> = {
  ok: ['✓', 'green'],
  refused: ['✗', 'red'],
  held: ['⏸', 'yellow'],
  problem: ['!', 'red'],
};

const DECISION_COLOURS: Record<string, Colour> = { allow: 'green', warn: 'yellow', block: 'red', require_approval: 'yellow' };

function describeRule(rule: RuleConfig | TemplateConfig): string {
  if ('template' in rule) return `${rule.id ?? rule.template}: template ${rule.template}`;
  const tools = Array.isArray(rule.tool) ? rule.tool.join(', ') : (rule.tool ?? '*');
  return `${rule.id}: ${rule.decision} ${tools}`;
}

/** The lines before the first step: what is about to run, and where. */
export function formatIntro(ws: DemoWorkspace, colour: boolean): string {
  const rules = (ws.rules?.rules ?? []).map(describeRule).join(' · ');
  const label = (text: string): string => paint(text.padEnd(10), 'dim', colour);
  return [
    `${paint('ratri demo', 'bold', colour)}: ratri in enforce mode in front of a small MCP server, offline.`,
    `${label('sandbox')}${ws.sandbox} (notes.txt, todo.md)`,
    `${label('rules')}${rules} · redactKeys: ${ws.redactKeys.join(', ')}`,
    `${label('proxy')}ratri mcp proxy --config ${ws.config}`,
    `${label('store')}${ws.store}`,
    '',
  ].join('\n');
}

/** One step: its mark (✓ ✗ ⏸ !) and what happened, in words. */
export function formatStep(step: DemoStep, colour: boolean): string {
  const [mark, markColour] = MARKS[step.mark];
  return `${paint(mark, markColour, colour)} ${step.text}`;
}

const formatDuration = (ms: number | null): string =>
  ms === null ? '' : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;

/** `failed -32001` reads better as `error -32001`; a held call says how its hold ended first. */
function outcomeText(row: CallRow): string {
  const outcome = row.outcome.replace(/^failed /, 'error ');
  return row.approval ? `${row.approval} → ${outcome}` : outcome;
}

const CALL_COLUMNS: Column<CallRow>[] = [
  { title: '#', value: (r) => r.requestId },
  { title: 'TOOL', value: (r) => r.tool },
  { title: 'DECISION', value: (r) => r.decision, colour: (r) => DECISION_COLOURS[r.decision] },
  { title: 'RULE', value: (r) => r.ruleId ?? '-' },
  { title: 'OUTCOME', value: outcomeText, colour: (r) => (r.outcome === 'completed' ? 'green' : 'red') },
  { title: 'DURATION', value: (r) => formatDuration(r.durationMs) },
];

/** The table of tool calls, as the store's events record them. */
export function formatCallTable(rows: CallRow[], colour: boolean): string {
  return renderTable(rows, CALL_COLUMNS, colour);
}

/** Everything after the steps: the table, the verdict, and what to try next. */
export function formatSummary(s: DemoSummary, colour: boolean): string {
  const eventCount = Object.values(s.eventCounts).reduce((a, b) => a + b, 0);
  const lines = [
    '',
    paint(`What ratri recorded (${eventCount} events of session ${s.sessionId}):`, 'bold', colour),
    formatCallTable(s.recorded, colour),
    '',
  ];
  if (s.ok) {
    lines.push(
      `${paint('✓', 'green', colour)} Everything behaved as expected, in ${(s.durationMs / 1000).toFixed(1)} s. ` +
        `The token sent with the rejected write is stored only as "[REDACTED]".`,
    );
  } else {
    lines.push(paint('The demo did not go as expected:', 'red', colour));
    for (const p of s.problems) lines.push(`  ${paint('!', 'red', colour)} ${p.replace(/\n/g, '\n    ')}`);
  }
  lines.push('', paint('What next', 'bold', colour));
  const readme = join(packageRoot, 'README.md');
  lines.push(`  Put ratri in front of a real server: "Put it in front of a server in your host" in ${readme}, then docs/hosts.md`);
  const next = (what: string, command: string): string => `  ${what.padEnd(26)}${paint(command, 'bold', colour)}`;
  if (s.kept) {
    lines.push(
      next('This run, event by event:', `ratri events --store ${s.store} --session ${s.sessionId}`),
      next('The approvals:', `ratri approvals list --status all --store ${s.store}`),
      next('The dashboard:', `ratri dashboard --store ${s.store}`),
      '',
      `Kept: the store ${s.store} (each --keep run adds to it) and the workspace ${s.workspace} (sandbox/, ratri.demo.json).`,
    );
  } else {
    lines.push(
      next("Your proxies' events:", 'ratri events'),
      next('Calls waiting for you:', 'ratri approvals list'),
      next('The dashboard:', 'ratri dashboard'),
      '',
      "This run's workspace and store were deleted. To look at them afterwards: ratri demo --keep",
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `--json`: the summary as one JSON document. */
export function formatJson(s: DemoSummary): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}
