/**
 * A desktop notification through `notify-send` (libnotify, on most Linux desktops), for
 * `ratri approvals watch --notify`. Where it is missing or fails, nothing happens: the terminal line
 * and its bell are the notice that always works.
 */
import { spawn } from 'node:child_process';

export function notifyDesktop(title: string, body: string): void {
  try {
    const child = spawn('notify-send', ['--app-name=ratri', title, body], { stdio: 'ignore', detached: false });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no notify-send here
  }
}
