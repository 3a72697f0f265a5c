/**
 * Where config text is parsed. `inlineConfigParser` parses on the calling thread (the CLI's
 * one-shot commands, tests, the language server — its own process). `WorkerConfigParser` parses
 * in a worker thread, for the running gateway: a parse of a file near the 1 MiB cap takes seconds
 * (measured: registry 5–9 s, policy 2–4 s on a loaded 2-core machine), and the gateway's thread
 * serves every call — in the extension host, every extension's too.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { IDisposable } from '../common/disposable';
import type { Logger } from '../common/logger';
import { parseGatehouseFile, parsePolicy, parseRegistry, type PolicyResult, type RegistryResult } from './loadConfig';
import type { Policy } from './policySchema';

/** Which file a text is. */
export type ConfigTextKind = 'registry' | 'policy' | 'gatehouse';

/** The parse result per kind. */
export interface ConfigTextResults {
  registry: RegistryResult;
  policy: PolicyResult;
  gatehouse: { gateway?: Policy['gateway']; problems: RegistryResult['problems'] };
}

/** Parses one config text; never throws for bad config (problems come back), only for a broken parser. */
export type ConfigTextParser = <K extends ConfigTextKind>(kind: K, text: string, file: string) => Promise<ConfigTextResults[K]>;

/** The synchronous parse, by kind. */
export function parseConfigText<K extends ConfigTextKind>(kind: K, text: string, file: string): ConfigTextResults[K] {
  const result = kind === 'registry' ? parseRegistry(text, file) : kind === 'policy' ? parsePolicy(text, file) : parseGatehouseFile(text, file);
  return result as ConfigTextResults[K];
}

/** Parses on the calling thread. */
export const inlineConfigParser: ConfigTextParser = async (kind, text, file) => parseConfigText(kind, text, file);

/** A request to the worker. */
export interface ParseRequest {
  id: number;
  kind: ConfigTextKind;
  text: string;
  file: string;
}

/** The worker's answer. */
export type ParseReply = { id: number; result: unknown; error?: undefined } | { id: number; error: string; result?: undefined };

/** The worker file next to the running code: the bundle's sibling, or configWorker.ts from source. */
function defaultWorker(): { file: string; execArgv?: string[] } {
  // As the scanner: from source, through tsx's CommonJS hook (the specifier is a variable so
  // bundlers leave it alone: this branch never runs bundled).
  const tsxHook = 'tsx/cjs';
  if (__filename.endsWith('.ts')) return { file: path.join(__dirname, 'configWorker.ts'), execArgv: ['--require', require.resolve(tsxHook)] };
  return { file: path.join(__dirname, 'configWorker.js') };
}

/** How long an idle config worker is kept before it is stopped (config edits come in bursts). */
export const CONFIG_WORKER_IDLE_MS = 10_000;

/**
 * One lazily started worker, unref'd while idle (it never keeps a CLI alive) and stopped after
 * `idleMs` without work: a worker thread is a whole V8 heap (about 10 MB resident) that a
 * gateway needs only for the moments a config file changes. A worker that cannot start or dies
 * makes the parse fall back to the calling thread, with a warning: a slow reload beats no reload.
 */
export class WorkerConfigParser implements IDisposable {
  private worker: Worker | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private disposed = false;

  constructor(
    private readonly logger: Logger,
    private readonly workerFile = defaultWorker(),
    private readonly idleMs = CONFIG_WORKER_IDLE_MS,
  ) {}

  /** True while a worker thread is running (started, not yet stopped for idleness). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  readonly parse: ConfigTextParser = async (kind, text, file) => {
    clearTimeout(this.idleTimer);
    const worker = this.ensureWorker();
    if (!worker) return parseConfigText(kind, text, file);
    try {
      return (await new Promise<unknown>((resolve, reject) => {
        const id = this.nextId++;
        this.pending.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ id, kind, text, file } satisfies ParseRequest);
      })) as ConfigTextResults[typeof kind];
    } catch (err) {
      if (this.disposed) throw err;
      this.logger.warn(`config worker failed (${(err as Error).message}); parsing ${path.basename(file)} on the main thread`);
      return parseConfigText(kind, text, file);
    }
  };

  private ensureWorker(): Worker | undefined {
    if (this.disposed) return undefined;
    if (this.worker) return this.worker;
    try {
      const worker = new Worker(this.workerFile.file, {
        ...(this.workerFile.execArgv ? { execArgv: this.workerFile.execArgv } : {}),
        // Never inherit stdout: in `gatehouse serve` the process's stdout is the MCP channel.
        stdout: true,
        stderr: true,
      });
      worker.stderr.on('data', (chunk: Buffer) => this.logger.warn(`config worker: ${chunk.toString('utf8').trimEnd()}`));
      worker.on('message', (reply: ParseReply) => {
        const entry = this.pending.get(reply.id);
        if (!entry) return;
        this.pending.delete(reply.id);
        if (this.pending.size === 0) {
          worker.unref();
          this.stopWhenIdle(worker);
        }
        if (reply.error !== undefined) entry.reject(new Error(reply.error));
        else entry.resolve(reply.result);
      });
      worker.on('error', (err) => this.fail(worker, err));
      worker.on('exit', (code) => this.fail(worker, new Error(`exited with code ${code}`)));
      worker.unref();
      this.worker = worker;
      return worker;
    } catch (err) {
      this.logger.warn(`could not start the config worker: ${(err as Error).message}`);
      return undefined;
    }
  }

  private stopWhenIdle(worker: Worker): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.worker !== worker || this.pending.size > 0) return;
      this.worker = undefined;
      // Its exit is ours: not a failure of parses started since (they have a new worker).
      worker.removeAllListeners('exit');
      worker.removeAllListeners('error');
      void worker.terminate();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private fail(worker: Worker, err: Error): void {
    if (this.worker === worker) this.worker = undefined;
    for (const entry of this.pending.values()) entry.reject(err);
    this.pending.clear();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    for (const entry of this.pending.values()) entry.reject(new Error('config parser disposed'));
    this.pending.clear();
    void worker?.terminate();
  }
}
