import type { Logger } from './logger';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/**
 * A logger that writes one line per record through `write` (the CLI passes stderr: stdout is
 * the MCP channel and must carry JSON-RPC only).
 */
export function createLineLogger(write: (line: string) => void, minLevel: string = 'info'): Logger {
  const min = Math.max(0, LEVELS.indexOf(minLevel as Level));
  const make = (level: Level) => (message: string) => {
    if (LEVELS.indexOf(level) < min) return;
    write(`[gatehouse] ${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
  };
  return { trace: make('trace'), debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
}
