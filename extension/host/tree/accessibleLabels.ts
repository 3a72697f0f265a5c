/**
 * What a screen reader says for the tree rows and the status-bar item: sentences, not the
 * visual shorthand (`ready · 6 tools · closed`). Without an explicit label VS Code reads a
 * row's tooltip instead, which for some rows is only a path or a URL. No vscode import: these
 * are plain strings, unit-tested in plain Node.
 */

/** `1 problem`, `2 problems`: a count with its noun in the right number. */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

const CIRCUIT_WORDS: ReadonlySet<string> = new Set(['closed', 'open', 'half-open']);

/**
 * A server row from its description's parts: `echo: ready, 6 tools, circuit closed`. Built
 * from the visual description, so whatever it gains (more counts) is read out too; the bare
 * circuit state gets its noun.
 */
export function serverRowLabel(name: string, description: string): string {
  const parts = description
    .split(' · ')
    .filter((part) => part !== '')
    .map((part) => (CIRCUIT_WORDS.has(part) ? `circuit ${part.replace('-', ' ')}` : part));
  return parts.length ? `${name}: ${parts.join(', ')}` : name;
}

/** A `label: value` row (the gateway's fields, a server's fields): `Config: 1 error`. */
export function fieldRowLabel(label: string, value: string): string {
  return value ? `${label}: ${value}` : label;
}

/** The facts behind the gateway header row. */
export interface GatewayRowFacts {
  state: 'idle' | 'starting' | 'running' | 'stopping' | 'failed';
  halted: boolean;
  configError: boolean;
  /** The port it listens on, when it does. */
  port?: number;
  autonomyLevel?: string;
}

/** `Gateway running on 127.0.0.1:4711, autonomy L1, HALT on: every tool call is refused`. */
export function gatewayRowLabel(f: GatewayRowFacts, name = 'Gateway'): string {
  switch (f.state) {
    case 'idle':
      return `${name} stopped`;
    case 'starting':
      return `${name} starting`;
    case 'stopping':
      return `${name} stopping`;
    case 'failed':
      return `${name} failed to start`;
    case 'running': {
      const parts = [f.port !== undefined ? `${name} running on 127.0.0.1:${f.port}` : `${name} running`];
      if (f.autonomyLevel) parts.push(`autonomy ${f.autonomyLevel}`);
      if (f.configError) parts.push('config has errors');
      if (f.halted) parts.push('HALT on: every tool call is refused');
      return parts.join(', ');
    }
  }
}

/** `Error in registry.yaml, line 3, column 5: unknown key 'comand'`. */
export function configProblemLabel(severity: string, file: string, line: number, column: number, message: string): string {
  const kind = severity === 'error' ? 'Error' : severity === 'warning' ? 'Warning' : 'Note';
  return `${kind} in ${file}, line ${line}, column ${column}: ${message}`;
}

/** `Session blocks: 2 servers`. */
export function sessionBlocksLabel(count: number): string {
  return `Session blocks: ${countOf(count, 'server')} opened their circuit repeatedly`;
}

/** `flaky blocked for this session: 3 of 3 circuit openings, at 14:03:07`. */
export function sessionBlockLabel(server: string, openings: number, threshold: number, at: string): string {
  return `${server} blocked for this session: ${openings} of ${threshold} circuit openings, at ${at}`;
}

/** `Gatehouse: 5 of 6 servers up; 1 problem: flaky: gave up` (HALT is one of the problems). */
export function statusBarLabel(s: { up: number; total: number; problems: readonly string[] }): string {
  const parts = [`Gatehouse: ${s.up} of ${countOf(s.total, 'server')} up`];
  if (s.problems.length) {
    const shown = s.problems.slice(0, 3).join('; ');
    const more = s.problems.length > 3 ? `; and ${s.problems.length - 3} more` : '';
    parts.push(`${countOf(s.problems.length, 'problem')}: ${shown}${more}`);
  }
  return parts.join('; ');
}
