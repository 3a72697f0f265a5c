import { writeFileSync } from 'node:fs';

/** One metric checked against a DESIGN §10 budget. */
export interface Check {
  metric: string;
  measured: string;
  target: string;
  pass: boolean;
}

/** A markdown table: the first column names the metric. */
export interface Table {
  caption?: string;
  columns: string[];
  rows: string[][];
}

/** What a section hands back to the runner (as JSON, through a file). */
export interface SectionResult {
  id: string;
  title: string;
  tables: Table[];
  notes: string[];
  checks: Check[];
  /** Set when the section failed part-way; what it measured before that is kept. */
  error?: string;
  seconds: number;
}

/** Collects a section's output; the runner renders it. */
export class SectionOutput {
  readonly tables: Table[] = [];
  readonly notes: string[] = [];
  readonly checks: Check[] = [];
  /** Set by {@link runSection}: writes what has been collected so far. */
  saver: (() => void) | undefined;

  /** Forgets everything collected (a section that re-renders its tables after each round). */
  reset(): void {
    this.tables.length = 0;
    this.notes.length = 0;
    this.checks.length = 0;
  }

  /**
   * Writes the result so far, so that a section the runner has to stop (time limit) still
   * reports the rounds it completed.
   */
  save(): void {
    this.saver?.();
  }

  table(columns: string[], caption?: string): string[][] {
    const rows: string[][] = [];
    this.tables.push({ columns, rows, ...(caption ? { caption } : {}) });
    return rows;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** Records a check and returns the cell text for the table's result column. */
  check(metric: string, measured: string, target: string, pass: boolean): string {
    this.checks.push({ metric, measured, target, pass });
    return pass ? 'PASS' : 'MISS';
  }
}

/** Progress goes to stderr (the runner shows it live); results go to the JSON file. */
export function progress(text: string): void {
  process.stderr.write(`  · ${text}\n`);
}

/**
 * Runs one section as the main program of its own Node process (so memory and event-loop
 * numbers are not polluted by other sections) and writes its result to the file named by
 * argv[2]. Exits explicitly: a leftover handle must not hang the whole bench.
 */
export function runSection(id: string, title: string, body: (out: SectionOutput) => Promise<void>): void {
  const file = process.argv[2];
  const out = new SectionOutput();
  const began = performance.now();
  const write = (error?: unknown): void => {
    const result: SectionResult = {
      id,
      title,
      tables: out.tables,
      notes: out.notes,
      checks: out.checks,
      seconds: Math.round((performance.now() - began) / 100) / 10,
      ...(error !== undefined ? { error: error instanceof Error ? (error.stack ?? error.message) : String(error) } : {}),
    };
    if (file) writeFileSync(file, JSON.stringify(result, null, 2));
    else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  };
  out.saver = file ? () => write() : undefined;
  const finish = (error?: unknown): never => {
    write(error);
    process.exit(0);
  };
  body(out).then(
    () => finish(),
    (err: unknown) => finish(err),
  );
}
