import type { DownstreamView } from '../../extension/protocol/model';
import { TRAFFIC_BUCKET_MS, type ServerEntry } from '../../extension/protocol/webview';
import type { ActionKind } from '../actions';
import { errorRate, lastMinute } from '../derive';
import { h, replaceChildren, setAttr, setText } from '../dom';
import { formatClock, formatCountdown, formatLatency, formatPercent, stateLabel } from '../format';
import { isUnavailable, setAvailability } from '../setAvailability';
import type { RenderContext } from './renderContext';
import { sparkline } from './sparkline';

// The server name doubles as the button that opens its details (no empty header over a
// separate expander column). Server, state, circuit and actions stick to the edges of the
// scroll region, so they stay in view however narrow the panel is.
const COLUMNS = [
  ['Server', 'sticky-1'],
  ['State', 'sticky-2'],
  ['Circuit', 'sticky-3'],
  ['Tools', 'num'],
  ['Calls/min', 'num'],
  ['Error rate', 'num'],
  ['p50', 'num'],
  ['p95', 'num'],
  ['Restarts', 'num'],
  ['Retry', ''],
  ['Last error', ''],
  ['Calls / errors, 10 min', ''],
  ['Actions', 'col-actions sticky-end'],
] as const;

interface Row {
  tr: HTMLTableRowElement;
  detail: HTMLTableRowElement;
  toggle: HTMLButtonElement;
  chevron: HTMLSpanElement;
  cells: Record<'state' | 'circuit' | 'tools' | 'rate' | 'errorRate' | 'p50' | 'p95' | 'restarts' | 'retry' | 'lastError' | 'traffic', HTMLTableCellElement>;
  buttons: Record<'respawn' | 'resetCircuit' | 'showOutput' | 'enabled', HTMLButtonElement>;
  detailList: HTMLDListElement;
  /** What the sparkline and the details were last drawn from: redraw only on change. */
  sparkKey: string;
  detailKey: string;
}

/**
 * The servers table. Rows are keyed by server name and updated in place, so a button keeps
 * keyboard focus while the data under it changes ten times a second.
 */
export class ServersTable {
  readonly element: HTMLElement;
  private readonly tbody = h('tbody');
  private readonly empty = h('p', { class: 'placeholder' }, 'No servers in registry.yaml.');
  private readonly rows = new Map<string, Row>();
  private readonly table: HTMLTableElement;
  private nextId = 0;

  constructor(
    private readonly onAction: (kind: ActionKind, server: string) => void,
    private readonly onToggle: (server: string) => void,
  ) {
    const headers = COLUMNS.map(([label, cls]) => h('th', { scope: 'col', class: cls || null }, label));
    this.table = h('table', { class: 'servers' }, h('caption', { class: 'visually-hidden' }, 'Servers'), h('thead', {}, h('tr', {}, ...headers)), this.tbody);
    // A keyboard user scrolls the region with the arrow keys once it has the focus.
    const scroll = h('div', { class: 'table-scroll', role: 'region', 'aria-label': 'Servers table, scrolls sideways', tabindex: 0 }, this.table);
    this.element = h('section', { 'aria-labelledby': 'servers-heading' }, h('h2', { id: 'servers-heading' }, 'Servers'), scroll, this.empty);
    this.trackStickyOffsets(headers.slice(0, 2));
  }

  /** The left offsets of the 2nd and 3rd sticky columns follow the widths of the ones before them. */
  private trackStickyOffsets(cells: HTMLTableCellElement[]): void {
    const publish = (): void => {
      let left = 0;
      cells.forEach((cell, i) => {
        left += cell.getBoundingClientRect().width;
        this.table.style.setProperty(`--gh-sticky-${i + 2}`, `${left}px`);
      });
    };
    const observer = new ResizeObserver(publish);
    for (const cell of cells) observer.observe(cell);
  }

  update(ctx: RenderContext): void {
    const { servers } = ctx.data;
    this.empty.hidden = servers.length > 0;
    const seen = new Set<string>();
    let position = 0;
    for (const entry of servers) {
      const name = entry.view.name;
      seen.add(name);
      const row = this.rows.get(name) ?? this.createRow(name);
      this.fill(row, entry, ctx);
      // Move rows only when out of place: moving a node takes the focus off its buttons.
      if (this.tbody.children[position] !== row.tr) this.tbody.insertBefore(row.tr, this.tbody.children[position] ?? null);
      if (this.tbody.children[position + 1] !== row.detail) this.tbody.insertBefore(row.detail, this.tbody.children[position + 1] ?? null);
      position += 2;
    }
    for (const [name, row] of this.rows) {
      if (seen.has(name)) continue;
      row.tr.remove();
      row.detail.remove();
      this.rows.delete(name);
    }
  }

  private createRow(name: string): Row {
    const id = `server-detail-${this.nextId++}`;
    const cell = (field: string, cls = ''): HTMLTableCellElement => h('td', { 'data-field': field, class: cls || null });
    const cells: Row['cells'] = {
      state: cell('state', 'sticky-2'),
      circuit: cell('circuit', 'sticky-3'),
      tools: cell('tools', 'num'),
      rate: cell('rate', 'num'),
      errorRate: cell('errorRate', 'num'),
      p50: cell('p50', 'num'),
      p95: cell('p95', 'num'),
      restarts: cell('restarts', 'num'),
      retry: cell('retry'),
      lastError: cell('lastError', 'last-error'),
      traffic: cell('traffic'),
    };
    const button = (kind: ActionKind | 'enabled', text: string): HTMLButtonElement => {
      const b = h('button', { type: 'button', class: 'secondary', 'data-action': kind }, text);
      b.addEventListener('click', () => {
        if (isUnavailable(b)) return;
        const k: ActionKind = kind === 'enabled' ? (b.dataset.enable === 'true' ? 'enable' : 'disable') : kind;
        this.onAction(k, name);
      });
      return b;
    };
    const buttons: Row['buttons'] = {
      respawn: button('respawn', 'Respawn'),
      resetCircuit: button('resetCircuit', 'Reset'),
      showOutput: button('showOutput', 'Output'),
      enabled: button('enabled', 'Disable'),
    };
    label(buttons.respawn, `Respawn ${name}: kill its process if any, forget its crashes, start it again`);
    label(buttons.resetCircuit, `Reset the circuit of ${name}`);
    label(buttons.showOutput, `Show the output of ${name}`);
    // Named by the server alone ("flaky, collapsed"): the chevron is decoration.
    const chevron = h('span', { class: 'chevron', 'aria-hidden': 'true' }, '▸');
    const toggle = h(
      'button',
      { type: 'button', class: 'toggle', 'aria-expanded': 'false', 'aria-controls': id, title: `Show the details of ${name}` },
      chevron,
      h('span', { class: 'server-label' }, name),
    );
    toggle.addEventListener('click', () => this.onToggle(name));
    const tr = h(
      'tr',
      { class: 'server-row', 'data-server': name },
      h('th', { scope: 'row', class: 'server-name sticky-1' }, toggle),
      cells.state,
      cells.circuit,
      cells.tools,
      cells.rate,
      cells.errorRate,
      cells.p50,
      cells.p95,
      cells.restarts,
      cells.retry,
      cells.lastError,
      cells.traffic,
      h('td', { class: 'col-actions sticky-end' }, h('div', { class: 'button-group', role: 'group', 'aria-label': `Actions for ${name}` }, buttons.respawn, buttons.resetCircuit, buttons.showOutput, buttons.enabled)),
    );
    const detailList = h('dl', { class: 'details' });
    const detail = h('tr', { class: 'detail-row', id, 'data-server-detail': name, hidden: true }, h('td', { colspan: COLUMNS.length }, detailList));
    const row: Row = { tr, detail, toggle, chevron, cells, buttons, detailList, sparkKey: '', detailKey: '' };
    this.rows.set(name, row);
    return row;
  }

  private fill(row: Row, entry: ServerEntry, ctx: RenderContext): void {
    const v = entry.view;
    const { now, actions } = ctx;
    badge(row.cells.state, `state-${v.state}`, stateLabel(v.state), v.reason);
    badge(row.cells.circuit, `circuit-${v.circuit_state}`, v.circuit_state, v.open_transitions ? `${v.open_transitions} openings this session` : null);
    // Tools, then prompts and resources when the server offers them: `6 · 3p · 7r`.
    const offers = [v.prompts_count ? `${v.prompts_count}p` : '', v.resources_count ? `${v.resources_count}r` : ''].filter(Boolean);
    setText(row.cells.tools, v.tools_count === null ? '—' : [String(v.tools_count), ...offers].join(' · '));
    const minute = lastMinute(entry.traffic, now);
    setText(row.cells.rate, String(minute.calls));
    setText(row.cells.errorRate, formatPercent(errorRate(entry.traffic, now)));
    setText(row.cells.p50, formatLatency(v.latency_ms.p50));
    setText(row.cells.p95, formatLatency(v.latency_ms.p95));
    setText(row.cells.restarts, String(v.restarts));
    setText(row.cells.retry, retryText(v, now));
    // Wrapped in full: readable without hovering for a tooltip.
    setText(row.cells.lastError, v.last_error ?? '');
    // The window slides once per bucket; in between only new counts change the picture.
    const sparkKey = `${Math.floor(now / TRAFFIC_BUCKET_MS)}:${JSON.stringify(entry.traffic)}`;
    if (sparkKey !== row.sparkKey) {
      row.sparkKey = sparkKey;
      replaceChildren(row.cells.traffic, sparkline(entry.traffic, now));
    }

    const b = row.buttons;
    setAvailability(b.respawn, { available: v.state !== 'disabled' && v.state !== 'blocked', busy: actions.isPending('respawn', v.name) });
    setAvailability(b.resetCircuit, { available: v.circuit_state !== 'closed', busy: actions.isPending('resetCircuit', v.name) });
    setAvailability(b.showOutput, { available: true, busy: actions.isPending('showOutput', v.name) });
    const enable = v.state === 'disabled';
    b.enabled.dataset.enable = String(enable);
    setText(b.enabled, enable ? 'Enable' : 'Disable');
    label(b.enabled, enable ? `Enable ${v.name} in registry.yaml` : `Disable ${v.name} in registry.yaml`);
    setAvailability(b.enabled, { available: true, busy: actions.isPending(enable ? 'enable' : 'disable', v.name) });

    const open = ctx.ui.expanded.includes(v.name);
    row.detail.hidden = !open;
    setAttr(row.toggle, 'aria-expanded', String(open));
    setText(row.chevron, open ? '▾' : '▸');
    // Redrawn only when the view changed, so a selection in the details survives the ticks.
    const detailKey = open ? JSON.stringify(v) : '';
    if (open && detailKey !== row.detailKey) replaceChildren(row.detailList, ...details(v));
    row.detailKey = detailKey;
  }
}

/** The accessible name and the tooltip of a button whose visible text is short. */
function label(button: HTMLButtonElement, text: string): void {
  setAttr(button, 'aria-label', text);
  setAttr(button, 'title', text);
}

function badge(cell: HTMLTableCellElement, cls: string, text: string, title: string | null): void {
  let span = cell.firstElementChild as HTMLSpanElement | null;
  if (!span) {
    span = h('span');
    cell.append(span);
  }
  setAttr(span, 'class', `badge ${cls}`);
  setText(span, text);
  setAttr(span, 'title', title);
}

function retryText(v: DownstreamView, now: number): string {
  if (v.state === 'backoff' && v.next_retry_at) return `respawn ${formatCountdown(v.next_retry_at, now)}`;
  if (v.circuit_state === 'open' && v.retry_at) return `probe ${formatCountdown(v.retry_at, now)}`;
  return '';
}

function details(v: DownstreamView): HTMLElement[] {
  const exit = v.last_exit ? `${v.last_exit.signal ?? `code ${v.last_exit.code ?? '?'}`} at ${formatClock(v.last_exit.at)}` : '—';
  const pairs: [string, string][] = [
    ['Reason', v.reason ?? '—'],
    ['Transport', v.transport],
    ['PID', v.pid === null ? '—' : String(v.pid)],
    ['Ready since', formatClock(v.started_at)],
    ['Last exit', exit],
    ['Calls (session)', `${v.calls} (${v.errors} failed, ${v.in_flight} in flight)`],
    ['Circuit openings', String(v.open_transitions)],
    ['Last error', v.last_error ?? '—'],
  ];
  return pairs.flatMap(([k, val]) => {
    const key = k.toLowerCase().replace(/[^a-z]+/g, '-');
    return [h('dt', {}, k), h('dd', { 'data-detail': key }, val)];
  });
}
