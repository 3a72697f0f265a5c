import type { ActionDidComplete, ActionRequest } from '../extension/protocol/webview';

/** The buttons' intents. */
export type ActionKind = 'respawn' | 'resetCircuit' | 'showOutput' | 'enable' | 'disable' | 'freeze' | 'unfreeze';

interface Pending {
  key: string;
  label: string;
}

/**
 * Turns button clicks into typed requests and tracks them until the host answers: a pending
 * action's button is marked busy and a second click is ignored (no double respawn), and the
 * outcome is announced. Each request
 * names the gateway shown when it was clicked, and pending state is per gateway: a respawn
 * still running on one folder's "echo" does not disable the button of another folder's "echo".
 */
export class ActionTracker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** @param shown the id of the gateway the page shows now; null before the first snapshot. */
  constructor(
    private readonly post: (request: ActionRequest) => void,
    private readonly onChange: () => void,
    private readonly announce: (text: string, failed: boolean) => void,
    private readonly shown: () => string | null,
  ) {}

  run(kind: ActionKind, server = ''): void {
    const gateway = this.shown();
    // Nothing shown, nothing to act on (the buttons are not there yet).
    if (gateway === null || this.isPending(kind, server)) return;
    const requestId = this.nextId++;
    this.pending.set(requestId, { key: keyOf(gateway, kind, server), label: labelOf(kind, server) });
    this.post(requestOf(kind, gateway, server, requestId));
    this.onChange();
  }

  isPending(kind: ActionKind, server = ''): boolean {
    const key = keyOf(this.shown() ?? '', kind, server);
    for (const p of this.pending.values()) if (p.key === key) return true;
    return false;
  }

  complete(message: ActionDidComplete): void {
    const pending = this.pending.get(message.requestId);
    if (!pending) return;
    this.pending.delete(message.requestId);
    if (!message.ok) this.announce(`${pending.label} failed: ${message.message ?? 'unknown error'}`, true);
    else if (message.message) this.announce(message.message, false);
    this.onChange();
  }
}

function keyOf(gateway: string, kind: ActionKind, server: string): string {
  return `${gateway}\u0000${kind}\u0000${server}`;
}

function labelOf(kind: ActionKind, server: string): string {
  switch (kind) {
    case 'respawn':
      return `Respawn ${server}`;
    case 'resetCircuit':
      return `Reset circuit of ${server}`;
    case 'showOutput':
      return `Show output of ${server}`;
    case 'enable':
      return `Enable ${server}`;
    case 'disable':
      return `Disable ${server}`;
    case 'freeze':
      return 'Freeze';
    case 'unfreeze':
      return 'Unfreeze';
    default:
      return assertNever(kind);
  }
}

function requestOf(kind: ActionKind, gateway: string, server: string, requestId: number): ActionRequest {
  switch (kind) {
    case 'respawn':
      return { type: 'server/respawn', requestId, gateway, server };
    case 'resetCircuit':
      return { type: 'circuit/reset', requestId, gateway, server };
    case 'showOutput':
      return { type: 'server/showOutput', requestId, gateway, server };
    case 'enable':
      return { type: 'server/setEnabled', requestId, gateway, server, enabled: true };
    case 'disable':
      return { type: 'server/setEnabled', requestId, gateway, server, enabled: false };
    case 'freeze':
      return { type: 'gateway/freeze', requestId, gateway };
    case 'unfreeze':
      return { type: 'gateway/unfreeze', requestId, gateway };
    default:
      return assertNever(kind);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected action: ${String(value)}`);
}
