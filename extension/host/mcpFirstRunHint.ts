/** globalState key: the hint was shown once for this user (whatever they picked). */
export const MCP_FIRST_RUN_KEY = 'gatehouse.mcpFirstRunHintShown';
/** VS Code's "MCP: List Servers" (pick a server → Start Server). */
export const LIST_MCP_SERVERS_COMMAND = 'workbench.mcp.listServer';
/** The hint's button. */
export const LIST_MCP_SERVERS_ACTION = 'List MCP Servers';

/** The part of `vscode.Memento` the hint needs. */
export interface MementoLike {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

export interface McpFirstRunHintDeps {
  /** `context.globalState`: once per user, not per workspace. */
  memento: MementoLike;
  /** `gatehouse.notifications` is `off`. */
  notificationsOff: () => boolean;
  showInformation: (message: string, ...items: string[]) => Thenable<string | undefined>;
  executeCommand: (command: string) => Thenable<unknown>;
}

/**
 * VS Code starts extension-provided MCP servers on demand: until the first chat message (or a
 * Start from "MCP: List Servers") it lists Gatehouse as Stopped, which reads like a failure on
 * the first run. There is no public API to start it ourselves (`workbench.mcp.startServer` is
 * internal, and with `*` would start the user's other servers too), so the first time a
 * gateway is published the user is told once what Stopped means and how to start it now.
 */
export class McpFirstRunHint {
  private shown = false;

  constructor(private readonly deps: McpFirstRunHintDeps) {}

  /** A gateway labelled `label` was just published to VS Code's MCP client. */
  async published(label: string): Promise<void> {
    if (this.shown || this.deps.memento.get<boolean>(MCP_FIRST_RUN_KEY) || this.deps.notificationsOff()) return;
    this.shown = true;
    // Recorded before asking: a dismissed or ignored toast is not shown again either.
    await this.deps.memento.update(MCP_FIRST_RUN_KEY, true);
    const pick = await this.deps.showInformation(
      `${label} is running. VS Code's chat starts its MCP connection on your first chat message; until then ` +
        `"MCP: List Servers" shows ${label} as Stopped. To start it now: MCP: List Servers → ${label} → Start Server.`,
      LIST_MCP_SERVERS_ACTION,
    );
    if (pick === LIST_MCP_SERVERS_ACTION) {
      await Promise.resolve(this.deps.executeCommand(LIST_MCP_SERVERS_COMMAND)).catch(() => undefined);
    }
  }
}
