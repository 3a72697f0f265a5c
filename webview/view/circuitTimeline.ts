import { circuitBands } from '../derive';
import { h, replaceChildren, s } from '../dom';
import { formatClock, formatSpan } from '../format';
import type { RenderContext } from './renderContext';

const WIDTH = 1000;
const HEIGHT = 14;

/**
 * One lane per server from the gateway's start to now: closed, open and half-open bands. Redrawn
 * on every render (no focusable content inside); each lane is described in words too.
 */
export class CircuitTimeline {
  readonly element: HTMLElement;
  private readonly lanes = h('div', { class: 'lanes' });
  private readonly axis = h('div', { class: 'axis' });

  constructor() {
    const legend = h(
      'ul',
      { class: 'legend', 'aria-label': 'Legend' },
      ...(['closed', 'half-open', 'open'] as const).map((state) => h('li', {}, h('span', { class: `swatch band-${state}`, 'aria-hidden': 'true' }), state)),
    );
    this.element = h(
      'section',
      { 'aria-labelledby': 'circuits-heading' },
      h('h2', { id: 'circuits-heading' }, 'Circuits this session'),
      legend,
      this.lanes,
      this.axis,
    );
  }

  update(ctx: RenderContext): void {
    const gateway = ctx.data.gateway;
    const start = gateway ? Date.parse(gateway.started_at) : NaN;
    if (!gateway || !Number.isFinite(start) || ctx.data.servers.length === 0) {
      replaceChildren(this.lanes, h('p', { class: 'placeholder' }, 'No circuits to show.'));
      replaceChildren(this.axis);
      return;
    }
    const now = Math.max(ctx.now, start + 1);
    const span = now - start;
    const x = (t: number): number => ((t - start) / span) * WIDTH;
    const lanes = ctx.data.servers.map((entry) => {
      const bands = circuitBands(entry.circuit, start, now);
      const words = bands.map((b) => `${b.state} ${formatClock(b.from)}–${formatClock(b.to)}`).join(', ');
      const svg = s(
        'svg',
        { class: 'lane-chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `${entry.view.name}: ${words || 'no data'}` },
        ...bands.map((b) =>
          s(
            'rect',
            { class: `band-${b.state}`, x: x(b.from).toFixed(2), y: 0, width: Math.max(0.5, x(b.to) - x(b.from)).toFixed(2), height: HEIGHT },
            s('title', {}, `${b.state}: ${formatClock(b.from)}–${formatClock(b.to)} (${formatSpan(b.to - b.from)})`),
          ),
        ),
      );
      return h('div', { class: 'lane', 'data-server': entry.view.name }, h('span', { class: 'lane-label' }, entry.view.name), svg);
    });
    replaceChildren(this.lanes, ...lanes);
    replaceChildren(this.axis, h('span', {}, `gateway start ${formatClock(start)}`), h('span', {}, `now ${formatClock(now)} (${formatSpan(span)})`));
  }
}
