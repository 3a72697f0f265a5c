import type { GatewayPicker as PickerState, GatewayRunState } from '../../extension/protocol/webview';
import { h } from '../dom';

/**
 * The header's gateway selector for multi-root workspaces: a native `<select>` (keyboard and
 * screen-reader support for free, themed by CSS variables) listing every folder's gateway with
 * its state. Hidden with one gateway, so a single-folder dashboard looks as it always did.
 */
export class GatewayPicker {
  readonly element: HTMLElement;
  private readonly select: HTMLSelectElement;
  private lastKey = '';
  private shown: string | null = null;

  constructor(onSelect: (gateway: string) => void) {
    this.select = h('select', { id: 'gateway-picker', class: 'gateway-picker', title: 'The workspace folder whose gateway the dashboard shows' });
    this.select.addEventListener('change', () => onSelect(this.select.value));
    // Left without the host having switched (refused, or it fell back meanwhile): show the truth.
    this.select.addEventListener('blur', () => this.sync(true));
    this.element = h('span', { class: 'picker', hidden: true }, h('label', { for: 'gateway-picker', class: 'visually-hidden' }, 'Gateway'), this.select);
  }

  /** True when shown (more than one gateway). */
  update(picker: PickerState): boolean {
    const multiple = picker.gateways.length > 1;
    this.element.hidden = !multiple;
    if (!multiple) return false;
    // Options are rebuilt only when the list changes: rebuilding closes an open dropdown.
    const key = JSON.stringify(picker.gateways);
    const rebuilt = key !== this.lastKey;
    if (rebuilt) {
      this.lastKey = key;
      this.select.replaceChildren(...picker.gateways.map((g) => h('option', { value: g.id }, optionText(g.label, g.state))));
    }
    this.shown = picker.shown;
    this.sync(rebuilt);
    return true;
  }

  /** Selects the gateway shown; not while the user is in the list, unless the options were rebuilt. */
  private sync(force: boolean): void {
    if (this.shown === null || this.select.value === this.shown) return;
    if (force || document.activeElement !== this.select) this.select.value = this.shown;
  }
}

function optionText(label: string, state: GatewayRunState): string {
  return state === 'running' ? label : `${label} (${stateText(state)})`;
}

function stateText(state: GatewayRunState): string {
  switch (state) {
    case 'idle':
      return 'stopped';
    case 'failed':
      return 'failed';
    case 'starting':
      return 'starting…';
    case 'stopping':
      return 'stopping…';
    case 'running':
      return 'running';
    default:
      return assertNever(state);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}
