import { isTreeNode } from '../tree/treeNode';
import type { GatewayEntry } from './dashboardSource';

/**
 * The gateway a `gatehouse.openDashboard` argument names: a tree node (the header's inline
 * action passes its own), a folder name, path or id (tests, other extensions, the status bar's
 * per-folder links), or a `Uri`-like `{ fsPath }`. Undefined without an argument (keep what the
 * panel shows); null when the argument names no gateway.
 */
export function gatewayArgument(arg: unknown, gateways: readonly Pick<GatewayEntry, 'id' | 'label' | 'path'>[]): string | null | undefined {
  if (arg === undefined || arg === null) return undefined;
  let path: string | undefined;
  if (isTreeNode(arg)) path = arg.gateway.folder.uri.fsPath;
  else if (typeof arg === 'object' && typeof (arg as { fsPath?: unknown }).fsPath === 'string') path = (arg as { fsPath: string }).fsPath;
  if (path !== undefined) return gateways.find((g) => g.path === path)?.id ?? null;
  if (typeof arg !== 'string') return null;
  return (gateways.find((g) => g.id === arg) ?? gateways.find((g) => g.label === arg) ?? gateways.find((g) => g.path === arg))?.id ?? null;
}
