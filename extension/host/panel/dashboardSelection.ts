import { Disposable, MutableDisposable, type IDisposable } from '../../common/disposable';
import { Emitter, type Event } from '../../common/event';
import type { SessionBlockView } from '../../protocol/model';
import type { DashboardState, GatewayInfo, GatewayPicker, ServerEntry } from '../../protocol/webview';
import type { ActionTarget } from './dashboardActions';
import { modelChange, type DashboardModel, type GatewayDashboardState, type ModelChange } from './dashboardModel';
import type { DashboardModels } from './dashboardModels';
import { resolvePicker } from './resolvePicker';

/** One revision of what a panel shows: a change of the shown gateway's model, or of the picker. */
export interface DashboardChange extends ModelChange {
  /** The list of gateways, their states, the choice or the fallback changed. */
  picker: boolean;
}

const noGateway: GatewayDashboardState = { gateway: null, servers: [], session_blocks: [], audit: [] };

/**
 * What one dashboard panel shows: the gateway chosen in its header (or by the command), else a
 * running one (see {@link resolvePicker}), plus the picker itself. It has a revision space of its
 * own, not the models': every change it forwards, every picker change and every switch is the
 * next revision, and a switch is a reset (the session answers it with a snapshot). So revisions
 * never go back when the panel moves to a gateway whose model counted less, and a patch built on
 * one gateway's state can never carry the base revision of another's snapshot.
 *
 * The choice lives here, on the host, for the panel's lifetime: the host must know it to route
 * actions and to answer `webview/ready` of a webview that VS Code tore down while hidden. The
 * webview mirrors it into its setState only so that a window reload (the serializer) restores it.
 */
export class DashboardSelection extends Disposable {
  private _revision = 0;
  private _picker: GatewayPicker;
  private shownModel: DashboardModel | undefined;
  private readonly binding = this.register(new MutableDisposable<IDisposable>());
  private readonly _onDidChange = this.register(new Emitter<DashboardChange>());
  readonly onDidChange: Event<DashboardChange> = this._onDidChange.event;

  /** @param chosen the id of the gateway to show first (a restored panel's, the command's). */
  constructor(
    private readonly models: DashboardModels,
    chosen?: string,
  ) {
    super();
    // A restored panel may be revived before the manager lists its folders: keep the id, and
    // name it by the URI's last segment until the folder shows up with its name.
    const label = chosen ? (models.gateways().find((g) => g.id === chosen)?.label ?? lastSegment(chosen)) : undefined;
    this._picker = this.resolve(chosen && label !== undefined ? { id: chosen, label } : null);
    this.bind();
    this.register(models.onDidChange(() => this.update()));
  }

  get revision(): number {
    return this._revision;
  }

  picker(): GatewayPicker {
    return this._picker;
  }

  /** Shows another gateway from now on (the header's selector, the command); false when unknown. */
  select(id: string): boolean {
    const gateway = this.models.gateways().find((g) => g.id === id);
    if (!gateway) return false;
    this.update({ id, label: gateway.label });
    return true;
  }

  /**
   * The gateway an action clicked on `id` acts on. Only the one shown: a webview that still
   * shows the previous gateway (the host fell back or switched meanwhile) must not act on the
   * one it has not displayed yet, even when a server of the same name is there.
   */
  target(id: string): ActionTarget {
    const shown = this._picker.shown;
    if (id !== shown || !this.shownModel) {
      const label = this._picker.gateways.find((g) => g.id === shown)?.label;
      throw new Error(label ? `The dashboard switched to ${label}: nothing was done.` : 'No gateway is shown: nothing was done.');
    }
    return this.shownModel;
  }

  state(): DashboardState {
    return { picker: this._picker, ...(this.shownModel?.state() ?? noGateway) };
  }

  entry(name: string): ServerEntry | undefined {
    return this.shownModel?.entry(name);
  }

  serverOrder(): string[] {
    return this.shownModel?.serverOrder() ?? [];
  }

  sessionBlocks(): SessionBlockView[] {
    return this.shownModel?.sessionBlocks() ?? [];
  }

  gatewayInfo(): GatewayInfo | null {
    return this.shownModel?.gatewayInfo() ?? null;
  }

  private resolve(chosen: GatewayPicker['chosen']): GatewayPicker {
    const candidates = this.models.gateways().map((g) => ({ id: g.id, label: g.label, state: g.state, running: g.source !== undefined }));
    return resolvePicker(candidates, chosen);
  }

  private update(chosen: GatewayPicker['chosen'] = this._picker.chosen): void {
    const before = this._picker;
    const beforeModel = this.shownModel;
    this._picker = this.resolve(chosen);
    // A folder removed and added again has a new model under the same id: that is a switch too.
    const model = this._picker.shown === null ? undefined : this.models.model(this._picker.shown);
    if (model !== beforeModel || this._picker.shown !== before.shown) {
      this.bind();
      this.fire({ reset: true, picker: true });
    } else if (!samePicker(before, this._picker)) {
      this.fire({ picker: true });
    }
  }

  private bind(): void {
    const id = this._picker.shown;
    const model = id === null ? undefined : this.models.model(id);
    this.shownModel = model;
    this.binding.value = model?.onDidChange((change) => this.fire({ ...change, picker: false }));
  }

  private fire(partial: Partial<Omit<DashboardChange, 'revision'>>): void {
    this._onDidChange.fire({ ...modelChange(++this._revision, partial), picker: partial.picker ?? false });
  }
}

function samePicker(a: GatewayPicker, b: GatewayPicker): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function lastSegment(uri: string): string {
  const segment = uri.replace(/\/+$/, '').split('/').pop() ?? uri;
  try {
    return decodeURIComponent(segment) || uri;
  } catch {
    return segment || uri;
  }
}
