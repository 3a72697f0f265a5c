import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** A fresh CSP nonce per render: only our one script tag may run. */
export function makeNonce(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The dashboard's HTML shell. Content comes from dist/webview.js; styles from media/dashboard.css.
 * The CSP allows nothing else: no inline script or style, no network, images only from the
 * extension (the SVG charts are built as DOM, not loaded).
 */
export function dashboardHtml(webview: vscode.Webview, extensionUri: vscode.Uri, nonce: string = makeNonce()): string {
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'dashboard.css'));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${style.toString()}">
  <title>Gatehouse Dashboard</title>
</head>
<body>
  <main id="app" aria-busy="true"><p class="placeholder">Connecting to the gateway…</p></main>
  <script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}
