/**
 * Linux /proc helpers for the benchmark: a process's descendants, its memory, and killing recorded
 * processes safely (a pid is only signalled while its start time still matches, so a recycled pid
 * is never hit).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** { pid, ppid, start, comm } from /proc/<pid>/stat, or undefined when the process is gone. */
export function statOf(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); ppid is field 4, starttime field 22.
  // utime and stime (fields 14 and 15) are in clock ticks.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { pid, ppid: Number(fields[1]), start: fields[19], comm, ticks, zombie: fields[0] === 'Z' || fields[0] === 'X' };
}

let clockTicks;
/** Clock ticks per second (USER_HZ), the unit of /proc CPU times. */
export function clockTicksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU time (user + system) a process has used so far, in milliseconds; NaN when it is gone. */
export function cpuMs(pid) {
  const s = statOf(pid);
  return s ? (s.ticks * 1000) / clockTicksPerSecond() : NaN;
}

/**
 * Machine-wide CPU time from /proc/stat, in milliseconds: `busy` (user, nice, system, irq, softirq,
 * steal) and `steal` alone, summed over all CPUs.
 */
export function machineCpuMs() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const toMs = (t) => (t * 1000) / clockTicksPerSecond();
  return { busy: toMs(user + nice + system + irq + softirq + (steal || 0)), steal: toMs(steal || 0) };
}

function cmdlineOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((a) => a.split('/').pop())
      .slice(0, 4)
      .join(' ');
  } catch {
    return '';
  }
}

/** The process and all its descendants (breadth first), each as { pid, start, comm }. */
export function processTree(rootPid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = statOf(Number(entry));
    if (!s || s.zombie) continue;
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(s);
  }
  const root = statOf(rootPid);
  if (!root) return [];
  const out = [];
  const queue = [root];
  while (queue.length > 0) {
    const s = queue.shift();
    out.push({ pid: s.pid, start: s.start, comm: cmdlineOf(s.pid) || s.comm });
    queue.push(...(children.get(s.pid) ?? []));
  }
  return out;
}

/** VmRSS and VmHWM of a process, in kB. */
export function readMemory(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!m) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(m[1]);
  };
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

/**
 * Of the recorded processes, returns those still alive (same pid and start time, not a zombie);
 * when `signal` is given, sends it to each of them.
 */
export function killTracked(records, signal) {
  const alive = [];
  for (const r of records) {
    const s = statOf(r.pid);
    if (!s || s.zombie || s.start !== r.start) continue;
    alive.push(r);
    if (signal) {
      try {
        process.kill(r.pid, signal);
      } catch {
        // already gone
      }
    }
  }
  return alive;
}
