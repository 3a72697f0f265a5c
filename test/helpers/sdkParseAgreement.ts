import { deserializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';

/** What the SDK's stdio parser and `ours` each make of a line: the message, or that it throws. */
export function parseBoth(line: string, ours: (text: string) => unknown): { sdk: unknown; ours: unknown } {
  const run = (parse: (text: string) => unknown) => {
    try {
      return { message: parse(line) };
    } catch {
      return 'throws';
    }
  };
  return { sdk: run(deserializeMessage), ours: run(ours) };
}
