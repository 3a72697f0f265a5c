import type { ActionKind, ActionTracker } from './actions';
import { h, replaceChildren, setText } from './dom';
import { FocusKeeper } from './focusKeeper';
import { keepFocusBelowHeader } from './keepFocusBelowHeader';
import type { ViewState } from './store';
import type { UiState } from './uiState';
import { Approvals } from './view/approvals';
import { AuditTable } from './view/auditTable';
import { CircuitTimeline } from './view/circuitTimeline';
import { Header } from './view/header';
import type { RenderContext } from './view/renderContext';
import { ServersTable } from './view/serversTable';
import { SessionBlocks } from './view/sessionBlocks';

export interface DashboardCallbacks {
  action(kind: ActionKind, server?: string): void;
  refresh(): void;
  /** The user chose another folder's gateway in the header. */
  select(gateway: string): void;
  /** The UI state changed (filter, expanded rows): persist it and re-render. */
  ui(next: UiState): void;
}

/** The page: builds the sections once, then renders each view state into them. */
export class Dashboard {
  private readonly header: Header;
  private readonly servers: ServersTable;
  private readonly timeline = new CircuitTimeline();
  private readonly blocks = new SessionBlocks();
  private readonly approvals = new Approvals();
  private readonly audit: AuditTable;
  private readonly status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  private readonly content = h('div', { class: 'content' });
  private readonly notice = h('p', { class: 'placeholder' });
  private built = false;
  private readonly focus = new FocusKeeper();

  constructor(
    private readonly root: HTMLElement,
    private ui: UiState,
    private readonly actions: ActionTracker,
    private readonly callbacks: DashboardCallbacks,
  ) {
    const act = (kind: ActionKind, server?: string): void => {
      this.focus.remember();
      callbacks.action(kind, server);
    };
    this.header = new Header(
      (kind) => act(kind),
      () => callbacks.refresh(),
      (gateway) => callbacks.select(gateway),
    );
    this.servers = new ServersTable(
      (kind, server) => act(kind, server),
      (server) => {
        const expanded = this.ui.expanded.includes(server) ? this.ui.expanded.filter((n) => n !== server) : [...this.ui.expanded, server];
        this.setUi({ ...this.ui, expanded });
      },
    );
    this.audit = new AuditTable(ui.filter, (filter) => this.setUi({ ...this.ui, filter }));
    // Approvals first: a call waiting for a person is what the user must act on.
    this.content.append(this.approvals.element, this.servers.element, this.timeline.element, this.blocks.element, this.audit.element);
    keepFocusBelowHeader(this.header.element);
  }

  /** Shows a result line (and announces it to screen readers). */
  announce(text: string, failed: boolean): void {
    setText(this.status, text);
    this.status.classList.toggle('error', failed);
  }

  /** An action finished: its button gets the focus back if a dialog or a re-render took it. */
  actionDone(): void {
    this.focus.restore();
  }

  render(view: ViewState, now: number): void {
    if (view.connection === 'incompatible') {
      setText(
        this.notice,
        `This dashboard speaks another protocol version than the extension (${view.hostProtocolVersion ?? '?'}). Close it and run "Gatehouse: Open Dashboard" again.`,
      );
      replaceChildren(this.root, this.notice);
      this.built = false;
      return;
    }
    if (!view.data) {
      setText(this.notice, 'Connecting to the gateway…');
      replaceChildren(this.root, this.notice);
      this.built = false;
      return;
    }
    if (!this.built) {
      replaceChildren(this.root, this.header.element, this.status, this.content);
      this.root.removeAttribute('aria-busy');
      this.built = true;
    }
    const ctx: RenderContext = { data: view.data, connection: view.connection, now, actions: this.actions, ui: this.ui };
    this.header.update(ctx);
    this.approvals.update(ctx);
    this.servers.update(ctx);
    this.timeline.update(ctx);
    this.blocks.update(ctx);
    this.audit.update(ctx);
  }

  private setUi(next: UiState): void {
    this.ui = next;
    this.callbacks.ui(next);
  }
}
