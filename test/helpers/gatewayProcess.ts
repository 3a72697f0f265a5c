import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { readDiscoveryFile, type DiscoveryInfo } from '../../extension/gateway/discoveryFile';
import type { StateFileContents } from '../../extension/state/stateFile';
import { ensureCliBuilt } from './cli';
import { until } from './poll';

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `gatehouse …` process started by a test, with its output captured. */
export interface CliProcess {
  proc: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const live = new Set<CliProcess>();

/** The environment a CLI child gets: ours, minus anything that would change its behaviour. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_METRICS_PORT: undefined, GATEHOUSE_PORT: undefined, GATEHOUSE_LOG_LEVEL: undefined, REA_METRICS_PORT: undefined, REA_LOG_LEVEL: undefined, ...extra };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/** Runs `node dist/cli.js <args>` in `cwd` with piped stdio. */
export function spawnCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, stdin: 'pipe' | 'ignore' = 'ignore'): CliProcess {
  const proc = spawn(process.execPath, [ensureCliBuilt(), ...args], { cwd, env: cliEnv(env), stdio: [stdin, 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<Exit>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const handle: CliProcess = {
    proc,
    pid: proc.pid as number,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  live.add(handle);
  void exited.then(() => live.delete(handle));
  return handle;
}

/** A running `gatehouse serve --http` and what its discovery file says. */
export interface HttpGateway extends CliProcess {
  info: DiscoveryInfo;
  configDir: string;
}

/** Starts `gatehouse serve --http` in `folder` and waits for its discovery file. */
export async function startHttpGateway(folder: string, env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): Promise<HttpGateway> {
  const cli = spawnCli(['serve', '--http', ...extraArgs], folder, env);
  const configDir = path.join(folder, '.gatehouse');
  let early: Exit | undefined;
  void cli.exited.then((e) => (early = e));
  const info = await until(
    'the discovery file of the new gateway',
    async () => {
      if (early) throw new Error(`gatehouse serve --http exited (${JSON.stringify(early)}): ${cli.stderr()}`);
      const found = await readDiscoveryFile(configDir);
      return found?.pid === cli.pid ? found : undefined;
    },
    20_000,
    25,
  );
  return { ...cli, info, configDir };
}

/** An SDK client connected to a gateway over Streamable HTTP with the discovery file's token. */
export async function httpClient(info: Pick<DiscoveryInfo, 'url' | 'token'>, name = 'test-http'): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: {} });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(info.url), { requestInit: { headers: { Authorization: `Bearer ${info.token}` } } }),
  );
  return client;
}

/** An SDK client that spawns `gatehouse <args>` (default `serve`) over stdio, as Claude Code would. */
export interface StdioSession {
  client: Client;
  transport: StdioClientTransport;
  /** The gatehouse process id. */
  pid: number;
  stderr(): string;
}

export async function stdioClient(folder: string, env: NodeJS.ProcessEnv = {}, args: string[] = ['serve']): Promise<StdioSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [ensureCliBuilt(), ...args],
    cwd: folder,
    env: cliEnv(env) as Record<string, string>,
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const client = new Client({ name: 'test-stdio', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  return { client, transport, pid: transport.pid as number, stderr: () => err };
}

/** The gateway's `serve.state.json`, or undefined while it is not (yet) written. */
export function readState(configDir: string): StateFileContents | undefined {
  try {
    return JSON.parse(readFileSync(path.join(configDir, 'serve.state.json'), 'utf8')) as StateFileContents;
  } catch {
    return undefined;
  }
}

/** Stops every CLI process a test left running (SIGTERM, then SIGKILL after a grace period). */
export async function stopAllCli(): Promise<void> {
  await Promise.all(
    [...live].map(async (p) => {
      const timer = setTimeout(() => p.proc.kill('SIGKILL'), 5000);
      await p.stop('SIGTERM');
      clearTimeout(timer);
    }),
  );
}

/** The text of the first content part of any `tools/call` answer (the SDK's result type is a union). */
export function resultText(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content;
  return content?.[0]?.text ?? '';
}

/**
 * Lists until `tool` is there. The gateway's first list waits for starting servers only up to
 * 5 s, which a heavily loaded machine can exceed; tests that are not about that bound poll.
 */
export async function listedWith(client: Client, tool: string, timeoutMs = 30_000): Promise<Array<{ name: string; annotations?: { readOnlyHint?: boolean } }>> {
  return until(`${tool} listed`, async () => {
    const { tools } = await client.listTools();
    return tools.some((t) => t.name === tool) ? tools : undefined;
  }, timeoutMs, 100);
}
