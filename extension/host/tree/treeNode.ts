import type { ConfigProblem } from '../../config/problem';
import type { DownstreamView, SessionBlockView } from '../../protocol/model';
import type { FolderGateway } from '../folderGateway';

/**
 * The nodes of the Gatehouse tree, discriminated by `kind`. Nodes are rebuilt on every refresh
 * from the live snapshot; their `id`s stay stable so VS Code keeps selection and expansion.
 */
export type TreeNode =
  /** Multi-root only: one group per folder with a gateway. */
  | { kind: 'folder'; gateway: FolderGateway }
  /** The header: endpoint, policy, HALT, config; expands into `gatewayField`s. */
  | { kind: 'gateway'; gateway: FolderGateway }
  | { kind: 'gatewayField'; gateway: FolderGateway; label: string; value: string; icon?: string; tooltip?: string }
  | { kind: 'configProblem'; gateway: FolderGateway; problem: ConfigProblem; index: number }
  | { kind: 'server'; gateway: FolderGateway; view: DownstreamView }
  | { kind: 'field'; gateway: FolderGateway; server: string; label: string; value: string }
  /** A server's tools from its last listing; each `tool` has a checkbox writing `tools.exclude`. */
  | { kind: 'tools'; gateway: FolderGateway; view: DownstreamView }
  | { kind: 'tool'; gateway: FolderGateway; server: string; tool: string; hidden: boolean }
  | { kind: 'sessionBlocks'; gateway: FolderGateway; blocks: readonly SessionBlockView[] }
  | { kind: 'sessionBlock'; gateway: FolderGateway; block: SessionBlockView };

/** A node that names one server (what the server commands accept from the tree). */
export type ServerTarget = { gateway: FolderGateway; server: string };

/** The server a node is about, for inline actions on servers, fields and session blocks. */
export function serverOf(node: TreeNode): ServerTarget | undefined {
  switch (node.kind) {
    case 'server':
      return { gateway: node.gateway, server: node.view.name };
    case 'field':
    case 'tool':
      return { gateway: node.gateway, server: node.server };
    case 'sessionBlock':
      return { gateway: node.gateway, server: node.block.server };
    default:
      return undefined;
  }
}

/** True for anything shaped like a TreeNode (command arguments arrive as `unknown`). */
export function isTreeNode(value: unknown): value is TreeNode {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string' && 'gateway' in value;
}
