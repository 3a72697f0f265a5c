import { Disposable, toDisposable } from '../../common/disposable';
import { Emitter, type Event } from '../../common/event';
import { DashboardModel, type DashboardModelOptions } from './dashboardModel';
import type { DashboardSourceProvider, DashboardSources, GatewayEntry } from './dashboardSource';

/**
 * One {@link DashboardModel} per workspace folder's gateway, from registration on and for as
 * long as the folder has a gateway. Every gateway is observed all the time, not only the one a
 * panel shows: switching the dashboard to another folder and back shows each one's whole circuit
 * timeline and sparklines, not a history that restarted at the switch.
 */
export class DashboardModels extends Disposable {
  private readonly models = new Map<string, DashboardModel>();
  private entries: readonly GatewayEntry[] = [];
  private disposed = false;
  /** Drives the models' providers: they follow their folder's source before anyone hears of the list. */
  private readonly _onDidChangeSources = this.register(new Emitter<void>());
  private readonly _onDidChange = this.register(new Emitter<void>());
  /** A gateway came or went, changed state or got another service (not on every data change). */
  readonly onDidChange: Event<void> = this._onDidChange.event;

  constructor(
    private readonly sources: DashboardSources,
    private readonly options: DashboardModelOptions = {},
  ) {
    super();
    this.register(sources.onDidChange(() => this.sync()));
    this.register(
      toDisposable(() => {
        this.disposed = true;
        for (const model of this.models.values()) model.dispose();
        this.models.clear();
      }),
    );
    this.sync();
  }

  /** The gateways as last seen, in folder order. */
  gateways(): readonly GatewayEntry[] {
    return this.entries;
  }

  /** The model of one gateway, while its folder has one. */
  model(id: string): DashboardModel | undefined {
    return this.models.get(id);
  }

  private sync(): void {
    if (this.disposed) return;
    const next = this.sources.gateways().map((e) => ({ ...e }));
    const ids = new Set(next.map((e) => e.id));
    for (const [id, model] of this.models) {
      if (ids.has(id)) continue;
      this.models.delete(id);
      model.dispose();
    }
    const changed = !sameEntries(this.entries, next);
    this.entries = next;
    for (const e of next) if (!this.models.has(e.id)) this.models.set(e.id, new DashboardModel(this.providerFor(e.id), this.options));
    this._onDidChangeSources.fire();
    if (changed) this._onDidChange.fire();
  }

  private providerFor(id: string): DashboardSourceProvider {
    const entries = () => this.entries;
    return {
      get current() {
        return entries().find((e) => e.id === id)?.source;
      },
      onDidChangeSource: this._onDidChangeSources.event,
    };
  }

}

function sameEntries(a: readonly GatewayEntry[], b: readonly GatewayEntry[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => x.id === b[i].id && x.label === b[i].label && x.path === b[i].path && x.state === b[i].state && x.source === b[i].source)
  );
}
