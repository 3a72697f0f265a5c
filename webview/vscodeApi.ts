import type { WebviewToHost } from '../extension/protocol/webview';

/** The API object VS Code injects into webviews (the subset we use). */
interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** The typed face of the VS Code API: posts only protocol messages. */
export interface HostApi {
  post(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** Acquires the API. VS Code allows one call per page load: call once, keep it private. */
export function acquireHostApi(): HostApi {
  const api = acquireVsCodeApi();
  return {
    post: (message) => api.postMessage(message),
    getState: () => api.getState(),
    setState: (state) => api.setState(state),
  };
}
