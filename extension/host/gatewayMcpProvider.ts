import * as vscode from 'vscode';
import { Disposable } from '../common/disposable';
import { Emitter } from '../common/event';
import type { FolderGateway } from './folderGateway';
import type { GatewayManager } from './gatewayManager';
import type { McpFirstRunHint } from './mcpFirstRunHint';

/** Must equal `contributes.mcpServerDefinitionProviders[].id`, or VS Code silently never asks. */
export const MCP_PROVIDER_ID = 'gatehouse.gateway';

/**
 * Publishes each running gateway to VS Code's own MCP client as an `McpHttpServerDefinition`
 * (loopback URL + bearer header). Fires `onDidChangeMcpServerDefinitions` whenever the set of
 * endpoints changes (a restart brings a new port and token), and re-resolves at start time so
 * VS Code never connects with a stale token or to a stopped or untrusted gateway.
 */
export class GatewayMcpProvider extends Disposable implements vscode.McpServerDefinitionProvider<vscode.McpHttpServerDefinition> {
  private readonly _onDidChange = this.register(new Emitter<void>());
  readonly onDidChangeMcpServerDefinitions = this._onDidChange.event;
  private lastKey = '';

  constructor(
    private readonly manager: GatewayManager,
    private readonly version: string,
    /** Told when a gateway is first published, so the first run's "Stopped" is explained. */
    private readonly firstRunHint?: McpFirstRunHint,
  ) {
    super();
    this.register(vscode.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, this));
    this.register(
      manager.onDidChange(() => {
        const key = this.key();
        if (key === this.lastKey) return;
        this.lastKey = key;
        this._onDidChange.fire();
        const first = this.live()[0];
        if (first) void this.firstRunHint?.published(this.label(first));
      }),
    );
  }

  provideMcpServerDefinitions(): vscode.McpHttpServerDefinition[] {
    this.lastKey = this.key();
    return this.live().map((g) => this.definition(g));
  }

  resolveMcpServerDefinition(server: vscode.McpHttpServerDefinition): vscode.McpHttpServerDefinition | undefined {
    if (!vscode.workspace.isTrusted) return undefined;
    const gateway = this.live().find((g) => this.label(g) === server.label);
    // undefined = "don't start": the gateway stopped since VS Code listed it.
    return gateway ? this.definition(gateway) : undefined;
  }

  private live(): FolderGateway[] {
    return this.manager.gateways().filter((g) => g.state === 'running' && g.endpoint !== undefined);
  }

  private label(g: FolderGateway): string {
    return this.manager.multiRoot ? `Gatehouse (${g.name})` : 'Gatehouse';
  }

  private definition(g: FolderGateway): vscode.McpHttpServerDefinition {
    const endpoint = g.endpoint;
    if (!endpoint) throw new Error('gateway has no endpoint');
    return new vscode.McpHttpServerDefinition(this.label(g), vscode.Uri.parse(endpoint.url), { Authorization: `Bearer ${endpoint.token}` }, this.version);
  }

  /** Identity of what we publish; the token is part of it (a restart changes it). */
  private key(): string {
    return this.live()
      .map((g) => `${this.label(g)}\u0000${g.endpoint?.url}\u0000${g.endpoint?.token}`)
      .join('\u0001');
  }
}
