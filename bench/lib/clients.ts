import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { readDiscoveryFile } from '../../extension/gateway/discoveryFile';
import { perRequestAbortFetch } from '../../extension/platform/perRequestAbortFetch';
import { cliPath } from './build';
import { repoRoot } from './env';
import type { BenchProject } from './project';

/**
 * The ways a client reaches the echo server in section 1: directly, through the gateway on stdio
 * or HTTP, and through the do-nothing proxy of each transport (the floor: bench/fixtures/*Floor.mjs);
 * and through a do-nothing proxy built on the SDK's `Server` and `Client`, on stdio (sdkProxy.mjs)
 * and on the SDK's Streamable HTTP transport (sdkHttpProxy.mjs).
 */
export type Mode = 'direct' | 'floorStdio' | 'sdkStdio' | 'stdio' | 'floorHttp' | 'sdkHttp' | 'http';

/**
 * The fetch of every HTTP client here (floor, SDK proxy and gateway alike): the SDK transport's
 * shared abort signal otherwise gains an undici listener per request until a major GC, so the
 * client's own cost per call would grow with the run and with the GC's timing
 * (extension/platform/perRequestAbortFetch.ts; the gateway's bridge and pool use the same).
 */
const benchFetch = perRequestAbortFetch();

/** A connected MCP client plus what the bench needs to address tools and clean up. */
export interface Endpoint {
  mode: Mode;
  client: Client;
  /** The name a tool of the `echo` server has on this endpoint (`echo` or `echo__echo`). */
  tool(name: string): string;
  /** Pid of the process the client talks to (the echo server, or the gateway). */
  pid: number;
  stderr(): string;
  /** Scanner budget overruns the gateway logged so far (see {@link StderrWatch}). */
  overruns(): Overruns;
  /** Closes the client and waits until the process it talks to has exited. */
  close(): Promise<void>;
}

/** The environment for a gateway CLI: ours, minus settings that would change what is measured. */
function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GATEHOUSE_')) env[k] = v;
  return { ...env, ...extra };
}

/** Scanner budget overruns in a gateway's log; `unattributed` ones named no pattern. */
export interface Overruns {
  total: number;
  /**
   * Overruns logged with pattern 'unknown': the worker was not running that job when the
   * budget ran out (it had finished, or not started), so the time went to waiting, not matching.
   */
  unattributed: number;
}

/** Watches a gateway's stderr: a bounded tail for error messages, and the scanner overruns it logs. */
class StderrWatch {
  private text = '';
  private partial = '';
  readonly overruns: Overruns = { total: 0, unattributed: 0 };

  constructor(stream: NodeJS.ReadableStream | null | undefined) {
    stream?.on('data', (d: Buffer | string) => this.add(d.toString()));
  }

  tail = (): string => this.text;

  private add(chunk: string): void {
    this.text = (this.text + chunk).slice(-8192);
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('exceeded its')) continue;
      this.overruns.total++;
      if (line.includes("pattern 'unknown'")) this.overruns.unattributed++;
    }
  }
}

function newClient(): Client {
  return new Client({ name: 'gatehouse-bench', version: '1.0.0' }, { capabilities: {} });
}

/** A process the bench spawned: `stop` sends SIGTERM (SIGKILL after 8 s) and resolves once it has exited. */
function owned(proc: ChildProcess): { exited: Promise<void>; gone(): boolean; stop(): Promise<void> } {
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async (): Promise<void> => {
    if (!gone) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 8000);
    await exited;
    clearTimeout(timer);
  };
  return { exited, gone: () => gone, stop };
}

/** An HTTP endpoint served by a process the bench spawned: closing it also stops the process. */
function spawnedEndpoint(mode: Mode, client: Client, proc: ChildProcess, watch: StderrWatch, stop: () => Promise<void>): Endpoint {
  return {
    mode,
    client,
    tool: (n) => `echo__${n}`,
    pid: proc.pid ?? -1,
    stderr: watch.tail,
    overruns: () => watch.overruns,
    close: async () => {
      await client.close().catch(() => undefined);
      await stop();
    },
  };
}

/** Baseline: the SDK client spawns the echo fixture itself, as a client configured without Gatehouse would. */
export async function openDirect(project: BenchProject, script = 'test/fixtures/servers/echo.mjs'): Promise<Endpoint> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [path.join(repoRoot, script)], cwd: project.folder, stderr: 'pipe' });
  const watch = new StderrWatch(transport.stderr as NodeJS.ReadableStream | null);
  const client = newClient();
  await client.connect(transport);
  return { mode: 'direct', client, tool: (n) => n, pid: transport.pid ?? -1, stderr: watch.tail, overruns: () => watch.overruns, close: () => client.close() };
}

/** `gatehouse serve` on stdio, spawned by the SDK client as Claude Code would. */
export async function openStdioGateway(project: BenchProject, env: Record<string, string> = {}): Promise<Endpoint> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [cliPath, 'serve'], cwd: project.folder, env: cliEnv(env), stderr: 'pipe' });
  const watch = new StderrWatch(transport.stderr as NodeJS.ReadableStream | null);
  const client = newClient();
  await client.connect(transport);
  return { mode: 'stdio', client, tool: (n) => `echo__${n}`, pid: transport.pid ?? -1, stderr: watch.tail, overruns: () => watch.overruns, close: () => client.close() };
}

/** `gatehouse serve --http`: waits for its discovery file, then connects with its token. */
export function openHttpGateway(project: BenchProject, env: Record<string, string> = {}): Promise<Endpoint> {
  return spawnHttpGateway(project, [cliPath], cliEnv(env));
}

/**
 * `node <nodeArgs…> serve --http --port 0` (`nodeArgs` end with the CLI's path) in `env`; waits
 * for its discovery file, then connects with its token. bench/lib/procCpu.ts runs it profiled.
 */
export async function spawnHttpGateway(project: BenchProject, nodeArgs: readonly string[], env: Record<string, string>): Promise<Endpoint> {
  const proc = spawn(process.execPath, [...nodeArgs, 'serve', '--http', '--port', '0'], { cwd: project.folder, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const watch = new StderrWatch(proc.stderr);
  const stderr = watch.tail;
  const { gone, stop } = owned(proc);
  try {
    const deadline = performance.now() + 20_000;
    let info = await readDiscoveryFile(project.configDir);
    while (!info || info.pid !== proc.pid) {
      if (gone()) throw new Error(`gatehouse serve --http exited early: ${stderr()}`);
      if (performance.now() > deadline) throw new Error(`no discovery file after 20 s: ${stderr()}`);
      // 5 ms: the poll interval is part of the measured connect time, so keep it small.
      await new Promise((r) => setTimeout(r, 5));
      info = await readDiscoveryFile(project.configDir);
    }
    const client = newClient();
    await client.connect(new StreamableHTTPClientTransport(new URL(info.url), { requestInit: { headers: { Authorization: `Bearer ${info.token}` } }, fetch: benchFetch }));
    return spawnedEndpoint('http', client, proc, watch, stop);
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A proxy fixture from bench/fixtures on stdio (`node <fixture> <server script>`), spawned by the SDK client. */
async function openStdioProxy(mode: Mode, fixtureFile: string, script: string, cwd: string): Promise<Endpoint> {
  const proxy = path.join(repoRoot, 'bench/fixtures', fixtureFile);
  const transport = new StdioClientTransport({ command: process.execPath, args: [proxy, path.join(repoRoot, script)], cwd, stderr: 'pipe' });
  const watch = new StderrWatch(transport.stderr as NodeJS.ReadableStream | null);
  const client = newClient();
  await client.connect(transport);
  return { mode, client, tool: (n) => `echo__${n}`, pid: transport.pid ?? -1, stderr: watch.tail, overruns: () => watch.overruns, close: () => client.close() };
}

/** The stdio floor: one process hop that parses, rewrites the prefix and re-serialises each line. */
export function openStdioFloor(project: BenchProject, script = 'test/fixtures/servers/echo.mjs'): Promise<Endpoint> {
  return openStdioProxy('floorStdio', 'stdioFloor.mjs', script, project.folder);
}

/** A do-nothing proxy on the SDK's own `Server` and `Client`: what the two protocol engines cost without governance. */
export function openSdkProxy(project: BenchProject, script = 'test/fixtures/servers/echo.mjs'): Promise<Endpoint> {
  return openStdioProxy('sdkStdio', 'sdkProxy.mjs', script, project.folder);
}

/** The HTTP floor: node:http keep-alive, one JSON body per POST, no auth, sessions or governance. */
export function openHttpFloor(project: BenchProject, script = 'test/fixtures/servers/echo.mjs'): Promise<Endpoint> {
  return openHttpProxy('floorHttp', 'httpFloor.mjs', script, project.folder);
}

/** A do-nothing proxy on the SDK's Streamable HTTP transport, `Server` and `Client`: the SDK's share over HTTP. */
export function openSdkHttpProxy(project: BenchProject, script = 'test/fixtures/servers/echo.mjs'): Promise<Endpoint> {
  return openHttpProxy('sdkHttp', 'sdkHttpProxy.mjs', script, project.folder);
}

/** An HTTP proxy fixture from bench/fixtures (`node <fixture> <server script>`), which prints its URL first. */
async function openHttpProxy(mode: Mode, fixtureFile: string, script: string, cwd: string): Promise<Endpoint> {
  const proxy = path.join(repoRoot, 'bench/fixtures', fixtureFile);
  const proc = spawn(process.execPath, [proxy, path.join(repoRoot, script)], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const watch = new StderrWatch(proc.stderr);
  const { exited, stop } = owned(proc);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      proc.stdout.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\n')) resolve(text.split('\n')[0]!);
      });
      void exited.then(() => reject(new Error(`${fixtureFile} exited early: ${watch.tail()}`)));
    });
    const client = newClient();
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: benchFetch }));
    return spawnedEndpoint(mode, client, proc, watch, stop);
  } catch (err) {
    await stop();
    throw err;
  }
}

export function open(mode: Mode, project: BenchProject): Promise<Endpoint> {
  switch (mode) {
    case 'direct':
      return openDirect(project);
    case 'floorStdio':
      return openStdioFloor(project);
    case 'sdkStdio':
      return openSdkProxy(project);
    case 'stdio':
      return openStdioGateway(project);
    case 'floorHttp':
      return openHttpFloor(project);
    case 'sdkHttp':
      return openSdkHttpProxy(project);
    case 'http':
      return openHttpGateway(project);
  }
}

/**
 * One tools/call. `client.request` with the result schema is exactly what `Client.callTool`
 * sends; calling it directly skips the client's optional output-schema check on both sides alike.
 */
export async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema, { timeout: 120_000 })) as CallToolResult;
}

/** The first text part of a result. */
export function textOf(result: CallToolResult): string {
  const part = result.content?.[0];
  return part && part.type === 'text' ? part.text : '';
}
