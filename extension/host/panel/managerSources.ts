import type { Event } from '../../common/event';
import type { GatewayService } from '../../gateway/gatewayService';
import type { FolderGateway } from '../folderGateway';
import type { GatewayManager } from '../gatewayManager';
import { resetCircuit, respawnServer, setEnabled, showServerOutput } from '../serverActions';
import type { DashboardSource, DashboardSourceProvider } from './dashboardSource';
import { gatewayServiceSource } from './gatewayServiceSource';

/**
 * The dashboard's view of the GatewayManager: it shows the first workspace folder whose gateway
 * has a running service (multi-root: the first such folder). One source object per service, so
 * the model keeps its history for as long as that service runs. Actions go through the same
 * functions as the tree's commands (progress, dirty-registry check, immediate reload).
 */
export class ManagerSources implements DashboardSourceProvider {
  private readonly sources = new WeakMap<GatewayService, DashboardSource>();
  /** The manager fires on every change of any gateway; the model compares identities. */
  readonly onDidChangeSource: Event<void>;

  constructor(private readonly manager: GatewayManager) {
    this.onDidChangeSource = manager.onDidChange;
  }

  get current(): DashboardSource | undefined {
    const gateway = this.manager.gateways().find((g) => g.service !== undefined);
    const service = gateway?.service;
    if (!gateway || !service) return undefined;
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
