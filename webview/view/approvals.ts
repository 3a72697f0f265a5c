import { h, replaceChildren } from '../dom';
import { formatClock, formatCountdown, formatSpan } from '../format';
import type { RenderContext } from './renderContext';

const ANSWERED_BY: Readonly<Record<string, string>> = {
  editor: 'you, in the editor',
  client_elicitation: "the client's user",
  session_grant: 'an earlier "Allow for this session"',
  timeout: 'no answer in time',
  halt: 'HALT',
  withdrawn: 'the client withdrew',
  no_approver: 'no one could be asked',
  shutdown: 'the gateway stopped',
};

/**
 * Calls waiting for a person (policy `approval:`) and the latest decisions. Hidden until the
 * gateway has had one, so a workspace without approvals sees no empty section.
 */
export class Approvals {
  readonly element: HTMLElement;
  private readonly body = h('div');
  private lastKey = '';

  constructor() {
    this.element = h('section', { 'aria-labelledby': 'approvals-heading', hidden: true }, h('h2', { id: 'approvals-heading' }, 'Approvals'), this.body);
  }

  update(ctx: RenderContext): void {
    const approvals = ctx.data.gateway?.approvals;
    // The countdown moves with `now`: re-render while something waits.
    const key = JSON.stringify(approvals) + (approvals?.waiting.length ? String(Math.floor(ctx.now / 1000)) : '');
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.element.hidden = !approvals;
    if (!approvals) return;
    const waiting = approvals.waiting.length
      ? h(
          'table',
          { class: 'approvals-waiting' },
          h('caption', {}, `Waiting (${approvals.waiting.length})`),
          h('thead', {}, h('tr', {}, ...['Since', 'Client', 'Tool', 'Tier', 'Arguments', 'Asked', 'Denied in'].map((t) => h('th', { scope: 'col' }, t)))),
          h(
            'tbody',
            {},
            ...approvals.waiting.map((w) =>
              h(
                'tr',
                { 'data-approval': w.id },
                h('td', {}, formatClock(w.since)),
                h('td', {}, w.client),
                h('th', { scope: 'row' }, `${w.server}__${w.tool}`),
                h('td', {}, w.tier),
                h('td', { class: 'message' }, w.arguments),
                h('td', {}, w.asked === 'editor' ? 'the editor' : 'the client (elicitation)'),
                h('td', {}, formatCountdown(w.expires_at, ctx.now)),
              ),
            ),
          ),
        )
      : h('p', { class: 'placeholder' }, 'No call is waiting for approval.');
    const recent = approvals.recent.length
      ? h(
          'table',
          { class: 'approvals-recent' },
          h('caption', {}, 'Recent decisions, newest first'),
          h('thead', {}, h('tr', {}, ...['Time', 'Client', 'Tool', 'Decision', 'Answered by', 'Wait'].map((t) => h('th', { scope: 'col' }, t)))),
          h(
            'tbody',
            {},
            ...approvals.recent.map((d) =>
              h(
                'tr',
                { 'data-approval': d.id },
                h('td', {}, formatClock(d.at)),
                h('td', {}, d.client),
                h('th', { scope: 'row' }, `${d.server}__${d.tool}`),
                h('td', {}, d.decision),
                h('td', {}, ANSWERED_BY[d.answered_by] ?? d.answered_by),
                h('td', { class: 'num' }, formatSpan(d.wait_ms)),
              ),
            ),
          ),
        )
      : h('p', { class: 'placeholder' }, 'No decisions yet.');
    replaceChildren(this.body, waiting, recent);
  }
}
