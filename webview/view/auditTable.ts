import { AUDIT_EVENTS_KEPT } from '../../extension/protocol/webview';
import { filterAudit } from '../derive';
import { h, replaceChildren, setText } from '../dom';
import { formatClock, formatLatency } from '../format';
import type { RenderContext } from './renderContext';

/** The last 50 audit events, newest first, with a text filter that survives hide/show. */
export class AuditTable {
  readonly element: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly tbody = h('tbody');
  private readonly count = h('span', { class: 'count', 'aria-live': 'polite' });
  private lastKey = '';

  constructor(initialFilter: string, onFilter: (text: string) => void) {
    this.input = h('input', {
      type: 'search',
      id: 'audit-filter',
      placeholder: 'Filter by tool, server, status, tier',
      value: initialFilter,
      spellcheck: 'false',
      autocomplete: 'off',
    });
    this.input.addEventListener('input', () => onFilter(this.input.value));
    const table = h(
      'table',
      { class: 'audit' },
      h('caption', { class: 'visually-hidden' }, 'Recent audit events, newest first'),
      h('thead', {}, h('tr', {}, ...['Time', 'Tool', 'Server', 'Status', 'Tier', 'Duration'].map((t) => h('th', { scope: 'col', class: t === 'Duration' ? 'num' : null }, t)))),
      this.tbody,
    );
    this.element = h(
      'section',
      { 'aria-labelledby': 'audit-heading' },
      h('h2', { id: 'audit-heading' }, `Recent audit events (last ${AUDIT_EVENTS_KEPT})`),
      h('div', { class: 'filter' }, h('label', { for: 'audit-filter' }, 'Filter'), this.input, this.count),
      h('div', { class: 'table-scroll', role: 'region', 'aria-label': 'Audit events table, scrolls sideways', tabindex: 0 }, table),
    );
  }

  update(ctx: RenderContext): void {
    const events = ctx.data.audit;
    const filter = ctx.ui.filter;
    const key = `${filter}\u0000${events.length}\u0000${events[events.length - 1]?.seq ?? -1}\u0000${events[0]?.seq ?? -1}`;
    if (key === this.lastKey) return;
    this.lastKey = key;
    const shown = filterAudit(events, filter);
    setText(this.count, filter ? `${shown.length} of ${events.length}` : `${events.length}`);
    if (shown.length === 0) {
      replaceChildren(this.tbody, h('tr', {}, h('td', { colspan: 6, class: 'placeholder' }, events.length ? 'No event matches the filter.' : 'No audit events yet.')));
      return;
    }
    replaceChildren(
      this.tbody,
      ...shown.map((e) =>
        h(
          'tr',
          { 'data-seq': e.seq, title: e.error ?? null },
          h('td', {}, formatClock(e.timestamp)),
          h('td', { class: 'mono' }, e.tool),
          h('td', {}, e.server),
          h('td', {}, h('span', { class: `badge status-${e.status}` }, e.status)),
          h('td', {}, h('span', { class: `tier tier-${e.tier}` }, e.tier)),
          h('td', { class: 'num' }, formatLatency(e.duration_ms)),
        ),
      ),
    );
  }
}
