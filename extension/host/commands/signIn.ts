import * as vscode from 'vscode';
import { accountScopes } from '../../auth/accountSessions';
import { signIn } from '../../auth/signIn';
import { resolveUrl } from '../../config/childEnv';
import type { ServerConfig } from '../../config/registrySchema';
import type { GatewayManager } from '../gatewayManager';
import { resolveServer } from '../serverActions';
import type { ServerTarget } from '../tree/treeNode';
import type { VscodeAccounts } from '../vscodeAccounts';

interface RemoteTarget {
  target: ServerTarget;
  config: ServerConfig;
  url: string;
}

async function remoteTarget(manager: GatewayManager, arg: unknown, placeHolder: string): Promise<RemoteTarget | undefined> {
  const target = await resolveServer(manager, arg, placeHolder);
  if (!target) return undefined;
  const config = target.gateway.service?.pool.connection(target.server)?.config;
  if (!config) throw new Error(`${target.server} is not running in this gateway`);
  if (!config.url) throw new Error(`${target.server} is a local server; only remote servers (url:) sign in`);
  const { url, missing } = resolveUrl(config, process.env);
  if (!url || missing.length) throw new Error(`${target.server}'s url needs ${missing.join(', ')} set in the environment`);
  return { target, config, url };
}

/**
 * Sign In (tree node, notification, palette). An `auth.provider` server asks VS Code for the
 * account; any other runs the OAuth flow (auth/signIn.ts) with the browser opened by
 * `vscode.env.openExternal` and the redirect taken on a loopback port of the extension host.
 * Loopback, not the extension's URI handler: the URI handler's redirect (vscode://, or the web
 * callback of code-server) is not a loopback URI, which dynamic registration at most MCP
 * authorization servers and RFC 8252 expect, and code-server has no URI handler without product
 * configuration. The loopback URL is passed through `asExternalUri` so that in Remote and
 * Codespaces the port is forwarded to the browser's machine first.
 */
export async function signInServer(manager: GatewayManager, accounts: VscodeAccounts | undefined, arg: unknown): Promise<string | undefined> {
  const remote = await remoteTarget(manager, arg, 'Sign in to which server?');
  if (!remote) return undefined;
  const { target, config, url } = remote;
  const account = config.auth?.provider;
  if (account) {
    if (!accounts) throw new Error('VS Code accounts are not available');
    await accounts.signIn(account, accountScopes(account, config.auth?.scopes));
    return target.server;
  }
  const store = target.gateway.service?.tokens;
  if (!store) throw new Error(`${target.server} is not running in this gateway`);
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Gatehouse: signing in to ${target.server} in the browser…`, cancellable: true },
    async (_progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      try {
        await signIn({
          server: target.server,
          url,
          store,
          client: config.auth,
          signal: abort.signal,
          onListening: (redirect) => void vscode.env.asExternalUri(vscode.Uri.parse(redirect)).then(undefined, () => undefined),
          open: async (authorizationUrl) => {
            const opened = await vscode.env.openExternal(vscode.Uri.parse(authorizationUrl.href, true));
            if (!opened) throw new Error('the browser was not opened');
          },
        });
      } finally {
        sub.dispose();
      }
    },
  );
  void vscode.window.showInformationMessage(`Gatehouse: signed in to ${target.server}.`);
  return target.server;
}

/** Sign Out: forgets the server's tokens (an account server is signed out from VS Code's Accounts menu). */
export async function signOutServer(manager: GatewayManager, arg: unknown): Promise<string | undefined> {
  const remote = await remoteTarget(manager, arg, 'Sign out of which server?');
  if (!remote) return undefined;
  const { target, config, url } = remote;
  if (config.auth?.provider) {
    void vscode.window.showInformationMessage(`Gatehouse: ${target.server} uses your VS Code ${config.auth.provider} account; sign out of it from the Accounts menu.`);
    return target.server;
  }
  await target.gateway.service?.tokens.set(url, undefined);
  void vscode.window.showInformationMessage(`Gatehouse: signed out of ${target.server}.`);
  return target.server;
}
