/** How `ratri doctor` shows its checks: one line each (✓ ✗ !), fix hints, progress, the summary, and --json. */
import { paint } from '../report/text-table.js';
import { visibleText } from '../report/visible-text.js';
import type { CheckResult } from './check-result.js';
import type { ServerUnderTest } from './checks.js';
import type { DoctorReport } from './doctor.js';

const MARK: Record<CheckResult['level'], { mark: string; colour: 'green' | 'red' | 'yellow' | 'dim' }> = {
  pass: { mark: '✓', colour: 'green' },
  fail: { mark: '✗', colour: 'red' },
  warn: { mark: '!', colour: 'yellow' },
  skip: { mark: '-', colour: 'dim' },
};

/** The first line of the text report. */
export function renderHeader(configPath: string, colour: boolean): string {
  return paint(`ratri doctor: ${configPath}`, 'bold', colour);
}

/** A check: its line, then its fix and its extra lines, indented. */
export function renderCheck(raw: CheckResult, colour: boolean): string {
  const check = visibleCheck(raw);
  const { mark, colour: tint } = MARK[check.level];
  const head = `${paint(mark, tint, colour)} ${check.level === 'skip' ? paint(`${check.title}: ${check.detail}`, 'dim', colour) : `${paint(check.title, 'bold', colour)}: ${check.detail}`}`;
  const fix = check.fix && check.level !== 'pass' ? [`    ${paint('fix:', tint, colour)} ${check.fix}`] : [];
  return [head, ...fix, ...check.lines.map((l) => `    ${l}`)].join('\n');
}

/**
 * The check's one-line texts made visible: they quote the upstream's names and errors. Its `lines`
 * are made visible where they are made (the decisions table is painted, so it cannot be escaped here).
 */
function visibleCheck(check: CheckResult): CheckResult {
  return { ...check, title: visibleText(check.title), detail: visibleText(check.detail), fix: check.fix && visibleText(check.fix) };
}

/** The heading of one server's checks in a multi-server config. */
export function renderSection(s: ServerUnderTest, colour: boolean): string {
  const c = s.config;
  return `\n${paint(`server "${s.entry ?? c.serverName}"`, 'bold', colour)} (serverName ${c.serverName}, ${c.mode} mode, environment ${c.environment})`;
}

/** The closing line: all passed, or how many failed. */
export function renderSummary(report: DoctorReport, colour: boolean): string {
  const count = (level: CheckResult['level']): number => report.checks.filter((c) => c.level === level).length;
  const [failedN, warnN, skipN] = [count('fail'), count('warn'), count('skip')];
  const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  const warnings = warnN > 0 ? plural(warnN, 'warning', 'warnings') : '';
  if (report.interrupted)
    return `\n${paint('Interrupted', 'yellow', colour)}: the upstream was stopped; ${report.checks.length} check(s) ran.`;
  if (failedN === 0) return `\n${paint(`All ${count('pass') + warnN} checks passed`, 'green', colour)}${warnings ? ` (${warnings})` : ''}.`;
  const more = [warnings, skipN > 0 ? `${skipN} not run` : ''].filter(Boolean).join(', ');
  return `\n${paint(plural(failedN, 'check failed', 'checks failed'), 'red', colour)}${more ? ` (${more})` : ''}. Fix the ✗ lines above, then run ratri doctor again.`;
}

/** The --json document: `{ ok, config, interrupted, checks: [{ id, title, ok, level, detail, fix, server, lines, data? }] }`. */
export function renderJson(report: DoctorReport): string {
  return JSON.stringify(report, null, 2);
}

/**
 * A one-line "… doing X" on stderr while a slow step runs, erased when it ends. Only on a terminal:
 * piped output gets each check's line as it completes instead.
 */
export class ProgressLine {
  private shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly colour: boolean,
  ) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  show(text: string | undefined): void {
    if (!this.enabled) return;
    if (this.shown) this.stream.write('\r\u001b[2K');
    this.shown = text !== undefined;
    if (text !== undefined) this.stream.write(paint(`… ${text}`, 'dim', this.colour));
  }
}
