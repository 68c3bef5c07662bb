/** How `ratri events` and `ratri approvals list` show their rows (the columns of their tables). */
import type { ApprovalRecord } from '../control/control-plane.js';
import type { StoredEvent } from '../control/event-store.js';
import { argumentsInList } from './approval-arguments.js';
import type { Colour, Column } from './text-table.js';
import { relativeTime } from './time-spec.js';

const str = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** One line saying what the event is about, by type. */
export function eventDetail(e: StoredEvent): string {
  const d = e.data;
  switch (e.type) {
    case 'agent.tool.started': {
      const resource = d.resource as { type?: string; value?: string } | null;
      return `${str(d.action)}${resource ? ` ${resource.type}:${resource.value}` : ''} args=${str(d.arguments)}`;
    }
    case 'agent.tool.completed':
      return `${str(d.durationMs)} ms, ${str(d.resultSize)} bytes`;
    case 'agent.tool.failed': {
      const error = d.error as { code?: unknown; message?: unknown } | undefined;
      return error
        ? `error ${str(error.code)}: ${str(error.message)} (${str(d.durationMs)} ms)`
        : `isError result (${str(d.durationMs)} ms)`;
    }
    case 'agent.guardrail.evaluated':
      return `${d.ruleId ? `rule ${str(d.ruleId)}: ` : ''}${str(d.reason)}${d.enforced ? '' : ' (monitor: not enforced)'}${d.failure ? ` [${str(d.failure)}]` : ''}`;
    case 'agent.approval.requested':
      return `${str(d.approvalId)} ${str(d.reason)}`;
    case 'agent.approval.resolved':
      return `${str(d.approvalId)} ${str(d.outcome)}`;
    case 'mcp.tools.registered':
      return `${str(d.count)} tools`;
    case 'mcp.session.started':
      return `${str(d.mode)} mode, upstream ${str((d.upstream as { command?: string } | undefined)?.command)}`;
    case 'mcp.session.ended':
      return str(d.reason);
    case 'proxy.warning':
      return `${str(d.kind)}: ${str(d.reason)}`;
    default:
      return '';
  }
}

const DECISION_COLOURS: Record<string, Colour> = { allow: 'green', warn: 'yellow', block: 'red', require_approval: 'yellow' };

export const EVENT_COLUMNS: Column<StoredEvent>[] = [
  // As stored: ISO 8601 in UTC, whose Z says so (docs/control-plane.md, "ratri events").
  { title: 'TIME', value: (e) => e.ts, colour: () => 'dim' },
  { title: 'SERVER', value: (e) => e.serverName },
  { title: 'TYPE', value: (e) => e.type },
  { title: 'TOOL', value: (e) => str(e.data.tool) },
  { title: 'DECISION', value: (e) => str(e.data.decision), colour: (e) => DECISION_COLOURS[str(e.data.decision)] },
  { title: 'DETAIL', value: eventDetail, max: 100 },
];

const STATUS_COLOURS: Record<string, Colour> = { pending: 'yellow', approved: 'green', rejected: 'red', expired: 'dim' };

export function approvalColumns(now: number = Date.now()): Column<ApprovalRecord>[] {
  return [
    { title: 'ID', value: (a) => a.id, colour: () => 'bold' },
    {
      title: 'STATUS',
      value: (a) => (a.status === 'pending' && a.hostGoneAt ? 'pending, host gone' : a.status),
      colour: (a) => STATUS_COLOURS[a.status],
    },
    { title: 'TOOL', value: (a) => `${a.serverName}.${a.tool}` },
    { title: 'RULE', value: (a) => a.ruleId ?? '' },
    { title: 'REQUESTED', value: (a) => relativeTime(a.requestedAt, now) },
    {
      title: 'EXPIRES/RESOLVED',
      value: (a) =>
        a.status === 'pending'
          ? relativeTime(a.expiresAt, now)
          : `${a.resolvedAt ? relativeTime(a.resolvedAt, now) : ''}${a.resolvedBy ? ` by ${a.resolvedBy}` : ''}${a.scope === 'always' ? ' (always)' : ''}`,
    },
    { title: 'ARGUMENTS', value: (a) => argumentsInList(a), max: 80 },
  ];
}
