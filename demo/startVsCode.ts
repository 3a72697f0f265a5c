/**
 * `npm start` (see start.mjs): build, package the .vsix, make sure code-server is installed,
 * start it on the demo workspace with Gatehouse installed, print where to go, and on Ctrl-C
 * (SIGINT/SIGTERM/SIGHUP) stop code-server, the extension host, the gateway and every MCP
 * server before exiting. Reuses the e2e harness, so the demo runs exactly what the tests run.
 *
 * Security decision: code-server runs with `--auth password` and a random password printed
 * once in this terminal, not `--auth none` as in the tests. It binds 127.0.0.1 only, but
 * loopback is not the user alone: any other local user or container sharing the network
 * namespace, and any local process, could otherwise open a VS Code with a terminal running
 * as this user (arbitrary code execution). Tests are short-lived and unattended; this server
 * may stay up for hours. The password travels as $PASSWORD, never on the command line (which
 * every user can read in /proc), and code-server deletes it from its environment before it
 * spawns the extension host or terminals. Plain http is acceptable on loopback only.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ensureCodeServer, startCodeServer, type CodeServer } from '../test/e2e/harness/codeServer';
import { CACHE_DIR, CODE_SERVER_VERSION, NODE_VERSION, readyMarker } from '../test/e2e/harness/setup.mjs';
import { buildExtension, packageGatehouse, REPO_ROOT } from '../test/e2e/support/gatehouseBuild';
import { formatBanner } from './banner';
import { seconds, withProgress } from './withProgress';

export interface StartOptions {
  /** code-server's port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
}

const DEMO_DIR = path.join(REPO_ROOT, 'demo');
/** Longest wait for a clean stop before the exit hook SIGKILLs what is left. */
const STOP_DEADLINE_MS = 30_000;

function print(line: string): void {
  console.log(line);
}

async function shutdown(server: CodeServer, why: string): Promise<never> {
  const started = Date.now();
  print(`\n${why}: stopping code-server, the extension host, the gateway and its MCP servers...`);
  // stop() has its own deadlines (TERM, then KILL); this only guards against a hang in it.
  setTimeout(() => {
    print(`Not stopped after ${STOP_DEADLINE_MS / 1000} s: killing what is left.`);
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
  try {
    await server.stop();
    print(`Stopped (${seconds(started)}): no process of this run is left.`);
    process.exit(0);
  } catch (err) {
    print(`Stop failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

export async function main(options: StartOptions = {}): Promise<void> {
  // A closed terminal (SIGHUP) turns writes into EIO/EPIPE errors: they must not crash the
  // process in the middle of the shutdown.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const t0 = Date.now();
  // Set once code-server is up; read by the signal handler, installed before anything starts.
  const run: { server?: CodeServer; stopping: boolean } = { stopping: false };
  const onSignal = (sig: NodeJS.Signals): void => {
    // npm forwards the terminal's SIGINT to us as well: the second one is the same Ctrl-C.
    if (run.stopping) return;
    run.stopping = true;
    if (run.server) {
      void shutdown(run.server, sig);
    } else {
      // Nothing of ours runs yet, or code-server is half started: the harness's exit hook kills
      // its process group; setup and vsce children got the terminal's signal with us.
      print(`\n${sig}: stopped before VS Code was up.`);
      process.exit(130);
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);

  print(`Gatehouse demo: VS Code (code-server) with the extension installed, on ${DEMO_DIR}`);
  await withProgress('Build (esbuild bundles + JSON schemas)', buildExtension);
  const vsix = await withProgress('Package the extension (.vsix, cached by its inputs)', packageGatehouse);
  const cached = readyMarker() !== undefined;
  await withProgress(
    cached
      ? 'code-server: reuse the installed copy'
      : `Install Node ${NODE_VERSION} and code-server ${CODE_SERVER_VERSION} into ${CACHE_DIR} (first time only, about 150 s)`,
    ensureCodeServer,
    { logFile: cached ? undefined : path.join(CACHE_DIR, 'setup.log') },
  );
  const password = randomBytes(18).toString('base64url');
  const started = await withProgress('Start code-server on 127.0.0.1 (installs the .vsix first)', () =>
    startCodeServer({
      workspace: DEMO_DIR,
      vsix,
      port: options.port ?? 0,
      password,
      // Our handler awaits stop(); the harness's would SIGKILL everything at once.
      handleSignals: false,
      // The MCP servers run detached with a filtered environment: follow them by parentage.
      stopDescendants: true,
    }),
  );
  run.server = started;
  print(formatBanner({ url: started.url, password, demoDir: DEMO_DIR, startedInSeconds: seconds(t0) }));

  // code-server dying on its own (crash, killed from outside) must not leave us waiting forever.
  const watch = setInterval(() => {
    if (!run.stopping && started.processes().length === 0) {
      clearInterval(watch);
      run.stopping = true;
      print(`code-server exited on its own; its output:\n${started.logs().slice(-3000)}`);
      void shutdown(started, 'code-server gone');
    }
  }, 2_000);
}
