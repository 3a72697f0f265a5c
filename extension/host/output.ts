import type * as vscode from 'vscode';
import type { Logger } from '../common/logger';

/**
 * Runs one channel write, swallowing what it throws: once the extension host is terminating
 * (deactivate), channels answer "Channel has been closed", and a log line must never abort the
 * shutdown that is being logged.
 */
export function safeLog(write: () => void): void {
  try {
    write();
  } catch {
    // the channel is gone; nothing left to tell
  }
}

/** A core `Logger` writing to a LogOutputChannel, each line prefixed (e.g. with the folder name). */
export function channelLogger(channel: vscode.LogOutputChannel, prefix = ''): Logger {
  const p = prefix ? `[${prefix}] ` : '';
  return {
    trace: (m) => safeLog(() => channel.trace(p + m)),
    debug: (m) => safeLog(() => channel.debug(p + m)),
    info: (m) => safeLog(() => channel.info(p + m)),
    warn: (m) => safeLog(() => channel.warn(p + m)),
    error: (m) => safeLog(() => channel.error(p + m)),
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
  safeLog(() => {
    if (!m) channel.info(`stderr: ${line}`);
    else if (m[1] === 'error') channel.error(m[2] ?? '');
    else if (m[1] === 'warn') channel.warn(m[2] ?? '');
    else channel.info(m[2] ?? '');
  });
}
