/**
 * Why a test cannot run on this OS, for `test(name, { skip }, …)`: Node prints the reason beside
 * the test's name (`# SKIP …`), so a Windows or macOS run of the CI matrix says what it left out.
 * Each has a variant that does run there, named in the reason.
 */

/**
 * Windows delivers no SIGTERM or SIGHUP: `process.kill(pid, 'SIGTERM')` is TerminateProcess, so
 * a graceful stop cannot be asked for that way (Ctrl-C, Ctrl-Break and console close are
 * covered by test/unit/platform/stopSignals.test.ts).
 */
export const posixSignals = process.platform === 'win32' && 'POSIX signals: Windows has no SIGTERM/SIGHUP (stopSignals.test.ts covers Ctrl-C, Ctrl-Break, console close)';

/** Reads /proc (Linux only); the macOS and Windows paths run through seams in orphansElsewhere.test.ts. */
export const procfs = process.platform !== 'linux' && 'reads /proc: Linux only (other platforms: test/process/orphansElsewhere.test.ts)';

/** Asserts POSIX file modes; Windows uses an ACL instead (test/unit/platform/files.test.ts). */
export const posixModes = process.platform === 'win32';
