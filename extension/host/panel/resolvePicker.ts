import type { GatewayChoice, GatewayPicker } from '../../protocol/webview';

/** One gateway as the picker decides on it. */
export interface PickerCandidate extends GatewayChoice {
  /** True while its service runs (there is data to show). */
  running: boolean;
}

/**
 * Which gateway a dashboard shows, given the choice. The chosen one is shown while it runs, and
 * also while it is starting or stopping (a restart must not flip the dashboard to another folder
 * and back). When it stopped, failed or its folder left the workspace, the first running one is
 * shown instead and `fallback` says why; the choice is kept, so the dashboard returns to it when
 * it runs again. Without a choice the first running gateway (else the first one) is shown and
 * becomes the choice: the user sees which folder it is and is told if it goes away.
 */
export function resolvePicker(candidates: readonly PickerCandidate[], chosen: { id: string; label: string } | null): GatewayPicker {
  const gateways = candidates.map(({ id, label, state }) => ({ id, label, state }));
  const firstRunning = candidates.find((c) => c.running);
  if (!chosen) {
    const shown = firstRunning ?? candidates[0];
    return { gateways, shown: shown?.id ?? null, chosen: shown ? { id: shown.id, label: shown.label } : null, fallback: null };
  }
  const current = candidates.find((c) => c.id === chosen.id);
  // The folder may have been renamed: the header names it as it is now.
  const effective = current ? { id: current.id, label: current.label } : chosen;
  if (current && (current.running || current.state === 'starting' || current.state === 'stopping')) {
    return { gateways, shown: current.id, chosen: effective, fallback: null };
  }
  const instead = firstRunning ?? (current ? undefined : candidates[0]);
  if (!instead) return { gateways, shown: current?.id ?? null, chosen: effective, fallback: null };
  return { gateways, shown: instead.id, chosen: effective, fallback: !current ? 'removed' : current.state === 'failed' ? 'failed' : 'stopped' };
}
