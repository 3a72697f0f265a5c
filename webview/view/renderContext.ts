import type { DashboardState } from '../../extension/protocol/webview';
import type { ActionTracker } from '../actions';
import type { Connection } from '../store';
import type { UiState } from '../uiState';

/** What every view renders from. */
export interface RenderContext {
  data: DashboardState;
  connection: Connection;
  /** The host's time now (epoch ms), corrected for the clock offset. */
  now: number;
  actions: ActionTracker;
  ui: UiState;
}
