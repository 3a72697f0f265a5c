import type { ActionKind } from '../actions';
import { h, setAttr, setText } from '../dom';
import { fallbackText } from '../fallbackText';
import { formatClock, formatSpan, formatTelemetry } from '../format';
import { isUnavailable, setAvailability } from '../setAvailability';
import { GatewayPicker } from './gatewayPicker';
import type { RenderContext } from './renderContext';

/**
 * The gateway line: which folder (a selector in multi-root workspaces), since when, how many
 * servers are up, HALT, and its buttons.
 */
export class Header {
  readonly element: HTMLElement;
  private readonly label = h('span', { class: 'gateway-label' });
  private readonly picker: GatewayPicker;
  /** Why the chosen gateway is not the one shown (it stopped, failed, or its folder left). */
  private readonly fallback = h('p', { class: 'fallback', role: 'status', hidden: true });
  private readonly meta = h('p', { class: 'meta' });
  /** OpenTelemetry export counts; hidden while export is off. Plain text: no live region, it changes often. */
  private readonly telemetry = h('p', { class: 'meta telemetry', hidden: true });
  private readonly connection = h('span', { class: 'connection' });
  private readonly halt = h('div', { class: 'halt-banner', role: 'alert', hidden: true });
  private readonly freeze: HTMLButtonElement;
  private readonly refresh: HTMLButtonElement;

  constructor(onAction: (kind: ActionKind) => void, onRefresh: () => void, onSelect: (gateway: string) => void) {
    this.picker = new GatewayPicker(onSelect);
    this.freeze = h('button', { type: 'button', class: 'secondary', 'data-action': 'freeze' }, 'Freeze');
    this.freeze.addEventListener('click', () => {
      if (!isUnavailable(this.freeze)) onAction(this.freeze.dataset.action === 'unfreeze' ? 'unfreeze' : 'freeze');
    });
    this.refresh = h('button', { type: 'button', class: 'secondary', 'data-action': 'refresh' }, 'Refresh');
    this.refresh.addEventListener('click', onRefresh);
    this.element = h(
      'header',
      { class: 'header' },
      h('div', { class: 'title-line' }, h('h1', {}, 'Gatehouse'), this.label, this.picker.element, this.connection),
      this.fallback,
      this.meta,
      this.telemetry,
      this.halt,
      h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Gateway actions' }, this.freeze, this.refresh),
    );
  }

  update(ctx: RenderContext): void {
    const g = ctx.data.gateway;
    const { picker } = ctx.data;
    // With a selector the selector names the folder; the plain label is for one gateway.
    this.label.hidden = this.picker.update(picker);
    setText(this.label, g ? g.label : 'no gateway');
    const fallback = fallbackText(picker);
    this.fallback.hidden = !fallback;
    setText(this.fallback, fallback);
    const shown = picker.gateways.find((c) => c.id === picker.shown);
    const servers = ctx.data.servers;
    const up = servers.filter((s) => s.view.state === 'ready').length;
    const enabled = servers.filter((s) => s.view.state !== 'disabled').length;
    const started = g ? Date.parse(g.started_at) : NaN;
    setText(
      this.meta,
      g
        ? `${up}/${enabled} servers ready · gateway started ${formatClock(g.started_at)}${Number.isFinite(started) ? ` (${formatSpan(ctx.now - started)} ago)` : ''}`
        : shown?.state === 'starting'
          ? `The gateway of ${shown.label} is starting…`
          : picker.gateways.length > 1 && shown
            ? `The gateway of ${shown.label} is not running. Start it with "Gatehouse: Restart Gateway".`
            : 'No gateway is running for this workspace. Start it with "Gatehouse: Restart Gateway".',
    );
    const telemetry = formatTelemetry(g?.telemetry);
    this.telemetry.hidden = telemetry === '';
    setText(this.telemetry, telemetry);
    setAttr(this.telemetry, 'data-dropped', String((g?.telemetry?.spans.dropped ?? 0) + (g?.telemetry?.logs.dropped ?? 0)));
    const connection = ctx.connection === 'live' ? 'live' : ctx.connection === 'resyncing' ? 'resyncing…' : ctx.connection === 'waiting' ? 'connecting…' : 'incompatible';
    setText(this.connection, connection);
    setAttr(this.connection, 'data-connection', ctx.connection);

    const halted = g?.halted ?? false;
    this.halt.hidden = !halted;
    setText(this.halt, halted ? `HALT is on: every tool call is denied.${g?.halt_reason ? ` Reason: ${g.halt_reason}` : ''}` : '');
    const kind: ActionKind = halted ? 'unfreeze' : 'freeze';
    this.freeze.dataset.action = kind;
    setText(this.freeze, halted ? 'Unfreeze' : 'Freeze (HALT)');
    setAvailability(this.freeze, { available: !!g, busy: ctx.actions.isPending(kind) });
    setAttr(this.freeze, 'title', halted ? 'Remove HALT: tool calls flow again' : 'Write HALT: every tool call is denied until you unfreeze');
  }
}
