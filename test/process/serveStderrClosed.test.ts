import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { makeProject } from '../helpers/gatewayProject';
import { spawnCli, stopAllCli } from '../helpers/gatewayProcess';
import { alive, until } from '../helpers/poll';

after(() => stopAllCli());

describe('gatehouse serve whose stderr reader went away', () => {
  // A client that stops reading the gateway's stderr (or a `| head`) closes the pipe: every
  // later log line fails with EPIPE. That must cost the lines, not the gateway: it used to
  // turn into an endless uncaughtException → log → EPIPE loop that spun a core and ignored
  // SIGTERM, leaving the gateway and its children running.
  test('keeps serving, and stops cleanly (children gone) when stdin closes', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const gw = spawnCli(['serve'], project.folder, {}, 'pipe');
    const childPid = Number((await until('the echo server ready', () => /echo: ready: \d+ tools, pid (\d+)/.exec(gw.stderr())?.[1], 30_000)));
    gw.proc.stderr?.destroy();
    gw.proc.stdin?.end();
    const exit = await Promise.race([gw.exited, until('the gateway to exit', () => undefined, 30_000).catch(() => 'still running' as const)]);
    assert.deepEqual(exit, { code: 0, signal: null });
    await until('the echo server gone', () => !alive(childPid) || undefined, 10_000);
  });

  // A client that stops reading stdout (it crashed, or closed its end) turns the next answer
  // into EPIPE: the gateway stops as on stdin EOF, children included (it died of an uncaught
  // error before, exit 1, through the internal-error path).
  test('a client that stops reading stdout: stopped cleanly at the next answer, children gone', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const gw = spawnCli(['serve'], project.folder, {}, 'pipe');
    const childPid = Number((await until('the echo server ready', () => /echo: ready: \d+ tools, pid (\d+)/.exec(gw.stderr())?.[1], 30_000)));
    gw.proc.stdout?.destroy();
    gw.proc.stdin?.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    const exit = await Promise.race([gw.exited, until('the gateway to exit', () => undefined, 30_000).catch(() => 'still running' as const)]);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(gw.stderr(), /stdout closed: stopping/);
    await until('the echo server gone', () => !alive(childPid) || undefined, 10_000);
  });
});
