/** Parsed command line: positional words and `--flag [value]` options. */
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

/** Flags that take a value; every other `--flag` is boolean. */
const WITH_VALUE = new Set(['port', 'metrics-port', 'dir', 'folder', 'reason', 'log-level', 'since', 'against', 'profile', 'timeout']);

/** A small parser: `gatehouse serve --http --port 0 --dir .gatehouse`. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (eq !== -1) flags.set(name, arg.slice(eq + 1));
    else if (WITH_VALUE.has(name) && i + 1 < argv.length) flags.set(name, argv[++i] ?? '');
    else flags.set(name, true);
  }
  return { positionals, flags };
}

/** A string flag's value, or undefined. */
export function flag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}
