import type * as vscode from 'vscode';
import type { Logger } from '../common/logger';

/** A core `Logger` writing to a LogOutputChannel, each line prefixed (e.g. with the folder name). */
export function channelLogger(channel: vscode.LogOutputChannel, prefix = ''): Logger {
  const p = prefix ? `[${prefix}] ` : '';
  return {
    trace: (m) => channel.trace(p + m),
    debug: (m) => channel.debug(p + m),
    info: (m) => channel.info(p + m),
    warn: (m) => channel.warn(p + m),
    error: (m) => channel.error(p + m),
  };
}

// Lifecycle lines of a connection's ring buffer look like `[gatehouse info] ready: 6 tools`.
const LIFECYCLE = /^\[gatehouse (info|warn|error)\] (.*)$/s;

/**
 * Writes one line of a server's captured output to its channel: lifecycle lines at their own
 * level, stderr lines at info (MCP servers log every level to stderr, so stderr is not an error).
 */
export function appendServerLine(channel: vscode.LogOutputChannel, line: string): void {
  const m = LIFECYCLE.exec(line);
  if (!m) {
    channel.info(`stderr: ${line}`);
    return;
  }
  const text = m[2] ?? '';
  if (m[1] === 'error') channel.error(text);
  else if (m[1] === 'warn') channel.warn(text);
  else channel.info(text);
}
