import * as vscode from 'vscode';
import { Disposable } from '../common/disposable';
import type { GatewayManager } from './gatewayManager';
import { readSettings } from './settings';

/**
 * One notification when a server enters `needs_auth` (a 401 from a remote server), with a
 * Sign In button; not repeated while it stays there.
 */
export class SignInNotifier extends Disposable {
  private readonly waiting = new Set<string>();

  constructor(private readonly manager: GatewayManager) {
    super();
    this.register(manager.onDidChange(() => this.update()));
  }

  private update(): void {
    const now = new Set<string>();
    for (const gateway of this.manager.gateways()) {
      for (const d of gateway.snapshot?.downstreams ?? []) {
        if (d.state !== 'needs_auth') continue;
        const key = `${gateway.name}\u0000${d.name}`;
        now.add(key);
        if (this.waiting.has(key) || readSettings().notifications === 'off') continue;
        const target = { gateway, server: d.name };
        void vscode.window.showWarningMessage(`Gatehouse: ${d.name} needs sign-in (${d.reason ?? 'the server answered 401'}).`, 'Sign In').then((choice) => {
          if (choice) void vscode.commands.executeCommand('gatehouse.signIn', target);
        });
      }
    }
    this.waiting.clear();
    for (const key of now) this.waiting.add(key);
  }
}
