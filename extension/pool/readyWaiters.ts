import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Clock } from '../common/clock';
import type { DownstreamError } from './downstreamError';

// The calls waiting (bounded) for a start or respawn under way. Apart from connection.ts
// because it is only bookkeeping: the connection says when the client is up or when waiting
// no longer makes sense, and what a timeout says.

interface Waiter {
  resolve: (client: Client) => void;
  reject: (err: DownstreamError) => void;
}

export class ReadyWaiters {
  private waiters: Waiter[] = [];

  constructor(private readonly clock: Clock) {}

  /** Waits up to `timeoutMs` for `resolveAll`; `timedOut` says why, at the time it fires. */
  wait(timeoutMs: number, timedOut: () => DownstreamError): Promise<Client> {
    return new Promise<Client>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (c) => {
          timer.dispose();
          resolve(c);
        },
        reject: (e) => {
          timer.dispose();
          reject(e);
        },
      };
      const timer = this.clock.setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(timedOut());
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  resolveAll(client: Client): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(client);
  }

  rejectAll(err: DownstreamError): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }
}
