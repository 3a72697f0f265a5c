/**
 * Entry of the dashboard webview (bundled to dist/webview.js). The only acquireVsCodeApi call;
 * wires the host channel, the reducer and the page. Every inbound message passes the protocol
 * guard first: anything unknown or malformed is logged to the webview console and dropped.
 */
import { parseHostToWebview, type WebviewToHost } from '../extension/protocol/webview';
import { ActionTracker } from './actions';
import { Dashboard } from './dashboard';
import { reduce, refresh, select, start, tick, type Reduction, type ViewState } from './store';
import { readUiState, type UiState } from './uiState';
import { acquireHostApi } from './vscodeApi';

const TICK_MS = 1_000;

const api = acquireHostApi();
let ui: UiState = readUiState(api.getState());
let view: ViewState;
let renderQueued = false;

const send = (messages: readonly WebviewToHost[]): void => {
  for (const message of messages) api.post(message);
};

const actions = new ActionTracker(
  (request) => api.post(request),
  () => scheduleRender(),
  (text, failed) => dashboard.announce(text, failed),
  // The gateway whose data the page shows: what a click acts on.
  () => view.data?.picker.shown ?? null,
);

const root = document.getElementById('app') ?? document.body;
const dashboard = new Dashboard(root, ui, actions, {
  action: (kind, server) => actions.run(kind, server),
  refresh: () => apply(refresh(view, Date.now())),
  select: (gateway) => apply(select(view, gateway, Date.now())),
  // The page's copy of the UI state does not track the gateway: keep ours.
  ui: (next) => setUi({ ...next, ...(ui.gateway !== undefined ? { gateway: ui.gateway } : {}) }),
});

function setUi(next: UiState): void {
  ui = next;
  api.setState(ui);
  scheduleRender();
}

function apply(reduction: Reduction): void {
  const changed = reduction.state !== view;
  view = reduction.state;
  send(reduction.send);
  // Mirror the host's choice for the serializer (a window reload restores the same gateway).
  const chosen = view.data?.picker.chosen?.id;
  if (chosen !== undefined && chosen !== ui.gateway) setUi({ ...ui, gateway: chosen });
  if (changed) scheduleRender();
}

/** One render per frame however many messages arrived in it. */
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    dashboard.render(view, Date.now() + view.clockOffsetMs);
  });
}

// Listen before announcing readiness, so the snapshot that answers it cannot be missed.
window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = parseHostToWebview(event.data);
  if (!parsed.ok) {
    console.warn(`[gatehouse] dropped a message from the host: ${parsed.error}`);
    return;
  }
  const message = parsed.message;
  switch (message.type) {
    case 'dashboard/didSnapshot':
    case 'dashboard/didPatch':
      apply(reduce(view, message, Date.now()));
      return;
    case 'action/didComplete':
      actions.complete(message);
      dashboard.actionDone();
      return;
    default:
      assertNever(message);
  }
});

const started = start(Date.now());
view = started.state;
send(started.send);
scheduleRender();

// Countdowns, "now" on the timeline and the sparkline window move with time; unanswered
// requests are retried. Nothing to do while the page is hidden.
setInterval(() => {
  if (document.visibilityState === 'hidden') return;
  apply(tick(view, Date.now()));
  scheduleRender();
}, TICK_MS);

function assertNever(value: never): never {
  throw new Error(`unexpected message: ${JSON.stringify(value)}`);
}
