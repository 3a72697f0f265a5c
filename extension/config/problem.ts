/**
 * The one shape every configuration diagnostic takes, whoever produces it (YAML parser, zod
 * schema, semantic checks, file loading) and whoever consumes it (gateway log, CLI, status bar,
 * language server). Keeping positions in the problem itself — rather than in a thrown message —
 * is what lets the language server underline the exact key or value without re-parsing.
 */

/** A position range inside a file. Lines and columns are 1-based; the end is exclusive. */
export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  /** One past the last character, so a one-character range has `endColumn === column + 1`. */
  endColumn: number;
}

/** One diagnostic about a configuration file. */
export interface ConfigProblem extends SourceRange {
  /** The file the problem is in, as given to the parser (usually an absolute path). */
  file: string;
  /** Errors prevent the file from being used; warnings do not. */
  severity: 'error' | 'warning';
  /** Stable machine-readable identifier, e.g. `duplicate-server-name`; tests and quick fixes key on it. */
  code: string;
  /** What is wrong and how to fix it, in one sentence a user can act on. */
  message: string;
}

/** Formats a problem the way compilers do, so terminals and VS Code make it clickable. */
export function formatProblem(problem: ConfigProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  return problem.severity === 'warning' ? `${where}: warning: ${problem.message}` : `${where}: ${problem.message}`;
}

/** True when at least one problem is an error (warnings alone never block a config). */
export function hasErrors(problems: readonly ConfigProblem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/**
 * Thrown by callers that cannot continue without a valid config (the CLI, gateway start-up).
 * The parsers themselves never throw: they return problems, because the language server needs
 * every problem at once, not the first one.
 */
export class ConfigError extends Error {
  /** Every problem found, errors and warnings, in file order. */
  readonly problems: ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const list = problems.map(formatProblem);
    super(list.length > 0 ? list.join('\n') : 'invalid configuration');
    this.name = 'ConfigError';
    this.problems = [...problems];
  }
}

/**
 * A problem about a whole file rather than a place in it (unreadable, too large, missing, not
 * YAML we can expand): pinned to 1:1, where an editor still shows it.
 */
export function fileProblem(file: string, code: string, message: string, severity: ConfigProblem['severity'] = 'error'): ConfigProblem {
  return { file, line: 1, column: 1, endLine: 1, endColumn: 1, severity, code, message };
}
