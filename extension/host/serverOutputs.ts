import * as vscode from 'vscode';
import { Disposable, DisposableStore } from '../common/disposable';
import type { GatewayService } from '../gateway/gatewayService';
import type { DownstreamConnection } from '../pool/connection';
import { appendServerLine } from './output';

interface Tracked {
  channel: vscode.LogOutputChannel;
  connection: DownstreamConnection | undefined;
  subscription: DisposableStore;
}

/**
 * One LogOutputChannel per downstream server of one gateway: the child's captured stderr plus
 * the supervisor's lifecycle lines. Channels outlive connections, so a hot reload that replaces
 * a server's connection (or a gateway restart) keeps appending to the same channel.
 */
export class ServerOutputs extends Disposable {
  private readonly tracked = new Map<string, Tracked>();
  private service: GatewayService | undefined;

  constructor(private readonly channelName: (server: string) => string) {
    super();
    this.register({ dispose: () => this.disposeAll() });
  }

  /** Follows a (new) service; call again after every store change to pick up added servers. */
  sync(service: GatewayService | undefined): void {
    this.service = service;
    if (!service) {
      for (const t of this.tracked.values()) this.follow(t, undefined);
      return;
    }
    const names = new Set(service.store.snapshot.downstreams.map((d) => d.name));
    for (const name of names) {
      let t = this.tracked.get(name);
      if (!t) {
        t = { channel: vscode.window.createOutputChannel(this.channelName(name), { log: true }), connection: undefined, subscription: new DisposableStore() };
        this.tracked.set(name, t);
      }
      this.follow(t, service.pool.connection(name));
    }
    for (const [name, t] of this.tracked) {
      if (!names.has(name)) {
        this.tracked.delete(name);
        t.subscription.dispose();
        t.channel.dispose();
      }
    }
  }

  /** Reveals a server's channel (created on demand, e.g. for a server that never started). */
  show(server: string): boolean {
    if (!this.tracked.has(server) && this.service) this.sync(this.service);
    const t = this.tracked.get(server);
    if (!t) return false;
    t.channel.show(true);
    return true;
  }

  private follow(t: Tracked, connection: DownstreamConnection | undefined): void {
    if (t.connection === connection) return;
    t.subscription.dispose();
    t.subscription = new DisposableStore();
    t.connection = connection;
    if (!connection) return;
    // What a server prints can hold secrets, and a LogOutputChannel is also a file on disk:
    // every line passes the gateway's redactor.
    const redact = this.service?.redact ?? ((text: string) => text);
    // A fresh connection starts with an empty buffer; a channel created late replays history.
    for (const line of connection.output.snapshot()) appendServerLine(t.channel, redact(line));
    t.subscription.add(connection.output.onDidAppend((line) => appendServerLine(t.channel, redact(line))));
  }

  private disposeAll(): void {
    for (const t of this.tracked.values()) {
      t.subscription.dispose();
      t.channel.dispose();
    }
    this.tracked.clear();
  }
}
