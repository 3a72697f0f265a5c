import type { ChildExit } from './childTransport';

// The texts a connection writes into its views, logs and errors. Pure functions of their
// arguments, kept out of connection.ts so the class file holds only the state machine.

const MAX_ERROR_CHARS = 4096;

export function describeExit(exit: ChildExit): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? 'unknown'}`;
}

export function missingEnvText(missing: string[]): string {
  return `missing env: ${missing.join(', ')} (set ${missing.length > 1 ? 'them' : 'it'} in the environment the gateway starts with)`;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** rea's bound for stored errors: 4096 UTF-16 units, no dangling high surrogate. */
export function bound(text: string): string {
  if (text.length <= MAX_ERROR_CHARS) return text;
  let cut = text.slice(0, MAX_ERROR_CHARS);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}
