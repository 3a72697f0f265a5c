import * as vscode from 'vscode';
import { Disposable } from '../common/disposable';
import { Emitter } from '../common/event';

export const PREVIEW_SCHEME = 'gatehouse-preview';

/** Read-only in-memory documents (proposed files shown in a diff before anything is written). */
export class PreviewDocuments extends Disposable implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private readonly _onDidChange = this.register(new Emitter<vscode.Uri>());
  readonly onDidChange = this._onDidChange.event;

  constructor() {
    super();
    this.register(vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, this));
  }

  /** Stores `text` under `key` and returns the URI that shows it. */
  set(key: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/${key}` });
    this.contents.set(uri.path, text);
    this._onDidChange.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.path) ?? '';
  }
}
