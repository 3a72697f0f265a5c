import type { ActionDidComplete, ActionRequest } from '../extension/protocol/webview';

/** The buttons' intents. */
export type ActionKind = 'respawn' | 'resetCircuit' | 'showOutput' | 'enable' | 'disable' | 'freeze' | 'unfreeze';

interface Pending {
  key: string;
  label: string;
}

/**
 * Turns button clicks into typed requests and tracks them until the host answers: a pending
 * action's button is disabled (no double respawn), and the outcome is announced.
 */
export class ActionTracker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly post: (request: ActionRequest) => void,
    private readonly onChange: () => void,
    private readonly announce: (text: string, failed: boolean) => void,
  ) {}

  run(kind: ActionKind, server = ''): void {
    const key = keyOf(kind, server);
    if (this.isPending(kind, server)) return;
    const requestId = this.nextId++;
    this.pending.set(requestId, { key, label: labelOf(kind, server) });
    this.post(requestOf(kind, server, requestId));
    this.onChange();
  }

  isPending(kind: ActionKind, server = ''): boolean {
    const key = keyOf(kind, server);
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

function keyOf(kind: ActionKind, server: string): string {
  return `${kind}\u0000${server}`;
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

function requestOf(kind: ActionKind, server: string, requestId: number): ActionRequest {
  switch (kind) {
    case 'respawn':
      return { type: 'server/respawn', requestId, server };
    case 'resetCircuit':
      return { type: 'circuit/reset', requestId, server };
    case 'showOutput':
      return { type: 'server/showOutput', requestId, server };
    case 'enable':
      return { type: 'server/setEnabled', requestId, server, enabled: true };
    case 'disable':
      return { type: 'server/setEnabled', requestId, server, enabled: false };
    case 'freeze':
      return { type: 'gateway/freeze', requestId };
    case 'unfreeze':
      return { type: 'gateway/unfreeze', requestId };
    default:
      return assertNever(kind);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected action: ${String(value)}`);
}
