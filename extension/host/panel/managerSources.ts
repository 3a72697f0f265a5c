import type { Event } from '../../common/event';
import type { GatewayService } from '../../gateway/gatewayService';
import type { FolderGateway } from '../folderGateway';
import type { GatewayManager } from '../gatewayManager';
import { resetCircuit, respawnServer, setEnabled, showServerOutput } from '../serverActions';
import type { DashboardSource, DashboardSources, GatewayEntry } from './dashboardSource';
import { gatewayServiceSource } from './gatewayServiceSource';

/**
 * The dashboard's view of the GatewayManager: every workspace folder's gateway, in folder order,
 * with a source while its service runs (the panel picks which one to show). One source object
 * per service, so a model keeps its history for as long as that service runs. Actions go
 * through the same functions as the tree's commands (progress, dirty-registry check, immediate
 * reload), each bound to its own folder's gateway.
 */
export class ManagerSources implements DashboardSources {
  private readonly sources = new WeakMap<GatewayService, DashboardSource>();
  /** The manager fires on every change of any gateway; consumers compare. */
  readonly onDidChange: Event<void>;

  constructor(private readonly manager: GatewayManager) {
    this.onDidChange = manager.onDidChange;
  }

  gateways(): GatewayEntry[] {
    return this.manager.gateways().map((gateway) => ({
      id: gatewayId(gateway),
      label: gateway.name,
      path: gateway.folder.uri.fsPath,
      state: gateway.state,
      source: this.sourceOf(gateway),
    }));
  }

  private sourceOf(gateway: FolderGateway): DashboardSource | undefined {
    const service = gateway.service;
    if (!service) return undefined;
    let source = this.sources.get(service);
    if (!source) {
      source = this.sourceFor(gateway, service);
      this.sources.set(service, source);
    }
    return source;
  }

  private sourceFor(gateway: FolderGateway, service: GatewayService): DashboardSource {
    const target = (server: string) => ({ gateway, server });
    const base = gatewayServiceSource(service, {
      label: gateway.name,
      halt: () => gateway.halt,
      // FolderGateway fires on HALT changes among others; the model ignores the rest.
      onDidChangeHalt: gateway.onDidChange,
      showOutput: (server) => showServerOutput(target(server)),
      setEnabled: (server, enabled) => setEnabled(target(server), enabled),
    });
    return {
      ...base,
      respawn: (server) => respawnServer(target(server)),
      resetCircuit: (server) => resetCircuit(target(server)),
      freeze: async (reason) => {
        await base.freeze(reason);
        // Don't wait for the file watcher: the header should flip with the click.
        await gateway.refreshHalt();
      },
      unfreeze: async () => {
        await base.unfreeze();
        await gateway.refreshHalt();
      },
    };
  }
}

/** The dashboard's id of a folder's gateway (the folder's URI: names may repeat in a workspace). */
export function gatewayId(gateway: FolderGateway): string {
  return gateway.folder.uri.toString();
}
