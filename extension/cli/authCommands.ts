import path from 'node:path';
import { FileTokenStore, userConfigDir } from '../auth/fileTokenStore';
import { signIn } from '../auth/signIn';
import { resolveConfigDir } from '../config/configDir';
import { resolveUrl } from '../config/childEnv';
import { loadRegistry } from '../config/loadConfig';
import type { ServerConfig } from '../config/registrySchema';
import { openBrowser } from '../platform/openBrowser';
import { flag, type ParsedArgs } from './args';

/**
 * `gatehouse auth login|logout|status`: sign-ins of remote servers, kept in the user's config
 * directory (`$XDG_CONFIG_HOME/gatehouse/tokens.json`, 0600), never in the workspace. A running
 * `gatehouse serve` watches that file and picks a sign-in up within seconds.
 */
export async function authCommand(args: ParsedArgs): Promise<number> {
  const [, sub, name] = args.positionals;
  const store = new FileTokenStore(userConfigDir(process.env));
  try {
    switch (sub) {
      case 'login':
      case 'logout': {
        if (!name) return fail(`say which server: gatehouse auth ${sub} <server>`);
        const server = await remoteServer(args, name);
        if (typeof server === 'string') return fail(server);
        return sub === 'login' ? await login(args, server, store) : await logout(server, store);
      }
      case 'status':
        return await authStatus(args, store);
    }
    return fail(`unknown auth command '${sub ?? ''}'; use login <server>, logout <server> or status`);
  } finally {
    store.dispose();
  }
}

interface RemoteServer {
  config: ServerConfig;
  url: string;
}

async function registryServers(args: ParsedArgs): Promise<ServerConfig[] | string> {
  const folder = path.resolve(flag(args, 'folder') ?? process.cwd());
  const dir = (await resolveConfigDir(folder, flag(args, 'dir'))).dir;
  const loaded = await loadRegistry(dir);
  if (!loaded.registry) return `${loaded.file} has errors; run \`gatehouse status\` or open it in VS Code to see them`;
  return loaded.registry.servers;
}

async function remoteServer(args: ParsedArgs, name: string): Promise<RemoteServer | string> {
  const servers = await registryServers(args);
  if (typeof servers === 'string') return servers;
  const config = servers.find((s) => s.name === name);
  if (!config) return `no server '${name}' in the registry (servers: ${servers.map((s) => s.name).join(', ') || 'none'})`;
  if (!config.url) return `'${name}' is a local (stdio) server; only remote servers (url:) sign in`;
  if (config.auth?.provider) return `'${name}' signs in with a VS Code ${config.auth.provider} account (auth.provider); sign in from VS Code`;
  const { url, missing } = resolveUrl(config, process.env);
  if (!url || missing.length) return `'${name}''s url needs ${missing.join(', ')} set in the environment`;
  return { config, url };
}

async function login(args: ParsedArgs, server: RemoteServer, store: FileTokenStore): Promise<number> {
  const noBrowser = args.flags.has('no-browser');
  const name = server.config.name;
  const timeout = flag(args, 'timeout');
  const timeoutS = timeout === undefined ? undefined : Number(timeout);
  if (timeoutS !== undefined && !(Number.isFinite(timeoutS) && timeoutS > 0)) return fail(`--timeout takes a number of seconds, not '${timeout}'`);
  try {
    await signIn({
      server: name,
      url: server.url,
      store,
      client: server.config.auth,
      timeoutMs: timeoutS === undefined ? undefined : timeoutS * 1000,
      onListening: (redirect) => process.stderr.write(`Waiting for the sign-in redirect on ${redirect}\n`),
      open: (authorizationUrl) => {
        process.stderr.write(`Sign in to '${name}' in a browser${noBrowser ? '' : ' (opening it now)'}:\n`);
        // The URL alone on its line (stdout), so it can be copied or read by a script.
        process.stdout.write(`${authorizationUrl.href}\n`);
        if (!noBrowser) openBrowser(authorizationUrl.href);
      },
    });
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  process.stderr.write(`Signed in to '${name}'. Tokens are in ${store.file} (readable by you only); a running gateway picks them up within seconds.\n`);
  return 0;
}

async function logout(server: RemoteServer, store: FileTokenStore): Promise<number> {
  const name = server.config.name;
  if (!(await store.get(server.url))) {
    process.stderr.write(`'${name}' was not signed in.\n`);
    return 0;
  }
  await store.set(server.url, undefined);
  process.stderr.write(`Signed out of '${name}': its tokens and client registration are forgotten.\n`);
  return 0;
}

interface AuthStatusRow {
  server: string;
  url: string;
  signed_in: boolean;
  expires_at: string | null;
  refreshable: boolean;
  signed_in_at: string | null;
}

async function authStatus(args: ParsedArgs, store: FileTokenStore): Promise<number> {
  const servers = await registryServers(args);
  if (typeof servers === 'string') return fail(servers);
  const rows: AuthStatusRow[] = [];
  for (const config of servers) {
    if (!config.url || config.auth?.provider) continue;
    const { url } = resolveUrl(config, process.env);
    if (!url) continue;
    const stored = await store.get(url);
    rows.push({
      server: config.name,
      url,
      signed_in: stored?.tokens?.access_token !== undefined,
      expires_at: stored?.expires_at === undefined ? null : new Date(stored.expires_at).toISOString(),
      refreshable: stored?.tokens?.refresh_token !== undefined,
      signed_in_at: stored?.signed_in_at ?? null,
    });
  }
  if (args.flags.has('json')) {
    process.stdout.write(`${JSON.stringify({ token_file: store.file, servers: rows }, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write('No remote servers in the registry.\n');
    return 0;
  }
  for (const row of rows) {
    const expiry = row.expires_at ? `, access token ${Date.parse(row.expires_at) > Date.now() ? 'expires' : 'expired'} ${row.expires_at}` : '';
    const refresh = row.signed_in ? (row.refreshable ? ', refreshable' : ', no refresh token') : '';
    process.stdout.write(`${row.server}  ${row.signed_in ? 'signed in' : 'not signed in'}${expiry}${refresh}  (${row.url})\n`);
  }
  process.stdout.write(`Tokens: ${store.file}\n`);
  return 0;
}

function fail(message: string): number {
  process.stderr.write(`gatehouse auth: ${message}\n`);
  return 1;
}
