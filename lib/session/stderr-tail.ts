/**
 * The end of what a child wrote to stderr, kept when the spawner captures it (the doctor does):
 * when a server dies before answering, its last stderr lines are the diagnosis. Only the last few
 * kilobytes are kept, so a chatty server cannot grow it without bound.
 */

/** How much of the stderr is kept (the end of it). */
const KEEP_BYTES = 8 * 1024;

export class StderrTail {
  private text = '';

  add(chunk: Buffer): void {
    this.text = (this.text + chunk.toString('utf8')).slice(-KEEP_BYTES);
  }

  /**
   * The last lines (at most `lines`). A crash prints its error first and a stack after it, so when
   * the last lines name no error, the last line that does comes first.
   */
  lastLines(lines: number): string[] {
    const all = this.text
      .split(/\r?\n/)
      .map((l) => l.trimEnd())
      .filter((l) => l !== '');
    const tail = all.slice(-lines);
    const isError = (l: string): boolean => /error/i.test(l);
    const error = all.slice(0, -lines).findLast(isError);
    return error !== undefined && !tail.some(isError) ? [error, '…', ...tail] : tail;
  }
}
