import type { ChildProcess } from 'node:child_process';

interface Pending {
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

/**
 * A deliberately dumb JSON-RPC client over a child's stdio, one message per line, that keeps
 * every raw stdout line: the tests that check "stdout carries only JSON-RPC" must see the bytes
 * exactly as a client would, which the SDK transport would hide.
 */
export class LineRpc {
  /** Every stdout line, as received. */
  readonly lines: string[] = [];
  /** Every notification's method, in order. */
  readonly notifications: string[] = [];
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly proc: ChildProcess) {
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.receive(chunk));
  }

  /** Sends initialize + initialized, as every MCP client does first. */
  async initialize(): Promise<unknown> {
    const result = await this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'line-rpc', version: '1.0.0' },
    });
    this.notify('notifications/initialized');
    return result;
  }

  request(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method: string, params?: Record<string, unknown>): void {
    this.send({ jsonrpc: '2.0', method, ...(params ? { params } : {}) });
  }

  /** Closes the gateway's stdin (the client went away). */
  end(): void {
    this.proc.stdin?.end();
  }

  private send(message: unknown): void {
    this.proc.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    for (let nl = this.buffer.indexOf('\n'); nl !== -1; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.lines.push(line);
      let message: { id?: number; method?: string; result?: unknown; error?: { code?: number; message: string } };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        continue; // kept in `lines`; the test asserts on it
      }
      if (message.method && message.id === undefined) this.notifications.push(message.method);
      if (typeof message.id !== 'number') continue;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiter?.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
      else waiter?.resolve(message.result);
    }
  }
}
