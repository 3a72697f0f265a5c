import { h, replaceChildren } from '../dom';
import { formatClock } from '../format';
import type { RenderContext } from './renderContext';

/** The SESSION_BLOCKERs fired this session: when, which server, and why. */
export class SessionBlocks {
  readonly element: HTMLElement;
  private readonly body = h('div');
  private lastKey = '';

  constructor() {
    this.element = h('section', { 'aria-labelledby': 'blocks-heading' }, h('h2', { id: 'blocks-heading' }, 'Session blocks'), this.body);
  }

  update(ctx: RenderContext): void {
    const blocks = ctx.data.session_blocks;
    const key = JSON.stringify(blocks);
    if (key === this.lastKey) return;
    this.lastKey = key;
    if (blocks.length === 0) {
      replaceChildren(this.body, h('p', { class: 'placeholder' }, 'None this session.'));
      return;
    }
    const rows = blocks.map((b) =>
      h(
        'tr',
        { 'data-server': b.server },
        h('td', {}, formatClock(b.emitted_at)),
        h('th', { scope: 'row' }, b.server),
        h('td', { class: 'num' }, `${b.open_transitions} / ${b.threshold}`),
        h('td', { class: 'message' }, b.message),
      ),
    );
    replaceChildren(
      this.body,
      h(
        'table',
        { class: 'blocks' },
        h('caption', { class: 'visually-hidden' }, 'Session blocks'),
        h('thead', {}, h('tr', {}, ...['Time', 'Server', 'Openings / threshold', 'Reason'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...rows),
      ),
    );
  }
}
