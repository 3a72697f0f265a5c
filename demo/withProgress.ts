/**
 * Runs one step of `npm start` and never leaves the terminal silent for long: the first-time
 * code-server install takes minutes, and a quiet terminal reads as a hang.
 */
import { readFileSync } from 'node:fs';

export interface ProgressOptions {
  /** Seconds between "still running" lines (default 5). */
  everySeconds?: number;
  /** A log the step appends to; its last line is shown with each "still running" line. */
  logFile?: string;
  /** Where lines go (default console.log). */
  print?: (line: string) => void;
}

function lastLine(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    const line = text.slice(text.lastIndexOf('\n') + 1).trim();
    return line.length > 110 ? `${line.slice(0, 107)}...` : line;
  } catch {
    return undefined;
  }
}

export function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`;
}

/** Prints `label…`, then a line every few seconds until `work` settles, then `label: done (N s)`. */
export async function withProgress<T>(label: string, work: () => Promise<T>, options: ProgressOptions = {}): Promise<T> {
  const print = options.print ?? ((line: string) => console.log(line));
  const started = Date.now();
  print(`- ${label}...`);
  const timer = setInterval(() => {
    const tail = options.logFile ? lastLine(options.logFile) : undefined;
    print(`  ${label}: still running (${seconds(started)})${tail ? ` | ${tail}` : ''}`);
  }, (options.everySeconds ?? 5) * 1000);
  try {
    const result = await work();
    print(`  ${label}: done (${seconds(started)})`);
    return result;
  } finally {
    clearInterval(timer);
  }
}
