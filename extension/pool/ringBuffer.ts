import { Emitter, type Event } from '../common/event';

/**
 * The last lines a child wrote to stderr, bounded by line count and bytes so a child that
 * floods stderr costs a fixed amount of memory. Lines longer than `maxLineChars` are cut.
 */
export class RingBuffer {
  private lines: string[] = [];
  private bytes = 0;
  private partial = '';
  private readonly _onDidAppend = new Emitter<string>();
  /** Fires once per complete line, after it is stored. */
  readonly onDidAppend: Event<string> = this._onDidAppend.event;
  /** Lines dropped because the buffer was full (shown so a user knows the log is partial). */
  dropped = 0;

  constructor(
    private readonly maxLines = 1000,
    private readonly maxBytes = 256 * 1024,
    private readonly maxLineChars = 4096,
  ) {}

  /** Feeds raw output; complete lines are stored, a trailing partial line waits for more. */
  write(chunk: string): void {
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > this.maxLineChars) {
      this.push(this.partial);
      this.partial = '';
    }
    for (const line of parts) this.push(line.replace(/\r$/, ''));
  }

  /** Stores one line as is (lifecycle lines from the supervisor go through here too). */
  push(line: string): void {
    const cut = line.length > this.maxLineChars ? `${line.slice(0, this.maxLineChars)}…` : line;
    this.lines.push(cut);
    this.bytes += cut.length;
    while (this.lines.length > this.maxLines || this.bytes > this.maxBytes) {
      this.bytes -= this.lines.shift()?.length ?? 0;
      this.dropped++;
    }
    this._onDidAppend.fire(cut);
  }

  /** The stored lines, oldest first. */
  snapshot(): string[] {
    return [...this.lines];
  }

  /**
   * The last non-empty line the child wrote, for error reasons ("exited with code 1: <last
   * line>"). The supervisor's own lifecycle lines (`[gatehouse …]`) share the buffer so the
   * output channel reads in order; they are skipped here, or a crash would be "explained" by
   * our own "ready" line.
   */
  lastLine(): string | undefined {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const line = this.lines[i]?.trim();
      if (line && !line.startsWith('[gatehouse ')) return line;
    }
    return this.partial.trim() || undefined;
  }

  dispose(): void {
    this._onDidAppend.dispose();
  }
}
