import type { GatewayPicker } from '../extension/protocol/webview';

/** The header line while the chosen gateway cannot be shown; empty when it is shown. */
export function fallbackText(picker: GatewayPicker): string {
  const chosen = picker.chosen?.label;
  const shown = picker.gateways.find((g) => g.id === picker.shown)?.label;
  if (!picker.fallback || !chosen || !shown) return '';
  switch (picker.fallback) {
    case 'stopped':
      return `The gateway of ${chosen} is not running: showing ${shown} until it runs again.`;
    case 'failed':
      return `The gateway of ${chosen} failed: showing ${shown} until it runs again.`;
    case 'removed':
      return `${chosen} is no longer in the workspace: showing ${shown}.`;
    default:
      return assertNever(picker.fallback);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected fallback: ${String(value)}`);
}
