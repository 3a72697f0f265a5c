import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { fixtureServer, repoRoot, tempDir } from '../helpers/fixtures';
import { httpClient, readState, resultText, spawnCli, startHttpGateway, stopAllCli, type HttpGateway } from '../helpers/gatewayProcess';
import { makeProject } from '../helpers/gatewayProject';
import { until } from '../helpers/poll';
import { tunables, textOf } from '../helpers/pool';
import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { systemClock } from '../../extension/common/clock';
import { Emitter } from '../../extension/common/event';
import { nullLogger } from '../../extension/common/logger';
import type { AccountProvider, AccountSessions } from '../../extension/auth/accountSessions';
import { DownstreamPool } from '../../extension/pool/pool';
import { registrySchema } from '../../extension/config/registrySchema';

/** One OAuth fixture server (the SDK's example OAuth provider and routers, test/fixtures/servers/oauthServer.mjs). */
interface OAuthServer {
  proc: ChildProcess;
  mcp: string;
  auth: string;
  stderr(): string;
}

const servers: OAuthServer[] = [];

async function startOAuthServer(...flags: string[]): Promise<OAuthServer> {
  const proc = spawn(process.execPath, [fixtureServer('oauthServer.mjs'), ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const line = await until('the OAuth fixture to print its URLs', () => {
    if (proc.exitCode !== null) throw new Error(`oauth fixture exited: ${err}`);
    return out.includes('\n') ? out.split('\n')[0] : undefined;
  }, 30_000);
  const urls = JSON.parse(line) as { mcp: string; auth: string };
  const server = { proc, ...urls, stderr: () => err };
  servers.push(server);
  return server;
}

interface FixtureStats {
  registrations: number;
  codes: number;
  refreshes: number;
  refused_refreshes: number;
  mcp_401: number;
  /** Every redirect URI a client asked to register. */
  redirect_uris: string[];
  /** The client of each code exchange and each refresh. */
  code_clients: string[];
  refresh_clients: string[];
}

async function stats(server: OAuthServer): Promise<FixtureStats> {
  return (await (await fetch(new URL('/_test/stats', server.auth))).json()) as FixtureStats;
}

async function control(server: OAuthServer, what: 'expire' | 'revoke-refresh'): Promise<void> {
  const res = await fetch(new URL(`/_test/${what}`, server.auth), { method: 'POST' });
  assert.equal(res.status, 200);
}

/** A project with the OAuth servers (by name → URL, or URL and `auth:` block) and one local echo server. */
function project(remotes: Record<string, string | { url: string; auth: Record<string, unknown> }>): { folder: string; configDir: string } {
  const p = makeProject([{ name: 'local', fixture: 'echo.mjs' }]);
  const registry = {
    version: '1',
    servers: [
      { name: 'local', command: process.execPath, args: [fixtureServer('echo.mjs')] },
      ...Object.entries(remotes).map(([name, remote]) => ({ name, ...(typeof remote === 'string' ? { url: remote } : remote), timeouts: { connect_ms: 20_000 } })),
    ],
  };
  writeFileSync(path.join(p.configDir, 'registry.yaml'), stringify(registry));
  return p;
}

function stateOf(configDir: string, name: string): { state?: string; reason?: string | null; last_error?: string | null } | undefined {
  return readState(configDir)?.downstreams?.find((d) => d.name === name) as never;
}

async function waitState(configDir: string, name: string, state: string, timeoutMs = 30_000): Promise<void> {
  await until(`'${name}' in state ${state} (now ${JSON.stringify(stateOf(configDir, name))})`, () => stateOf(configDir, name)?.state === state, timeoutMs, 100);
}

/** What a browser does with the printed URL: follow the authorization server's redirects to the loopback callback. */
async function followAsBrowser(authorizationUrl: string, tamper?: (callback: URL) => void): Promise<{ status: number; callback: URL }> {
  let url = new URL(authorizationUrl);
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(url, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, url);
      if (next.hostname === '127.0.0.1' && next.pathname === '/callback') {
        tamper?.(next);
        const done = await fetch(next);
        await done.text();
        return { status: done.status, callback: next };
      }
      url = next;
      continue;
    }
    throw new Error(`the authorization page answered ${res.status} without a redirect: ${await res.text()}`);
  }
  throw new Error('too many redirects');
}

/** Runs `gatehouse auth login <server> --no-browser` and completes it as a browser would. */
async function login(folder: string, env: NodeJS.ProcessEnv, server: string, tamper?: (callback: URL) => void) {
  const cli = spawnCli(['auth', 'login', server, '--no-browser'], folder, env);
  return completeLogin(cli, server, tamper);
}

/** Completes a running `auth login` as a browser would. */
async function completeLogin(cli: ReturnType<typeof spawnCli>, server: string, tamper?: (callback: URL) => void) {
  const printed = await until(`the authorization URL from auth login ${server} (stderr: ${cli.stderr()})`, () => {
    if (cli.proc.exitCode !== null) throw new Error(`auth login exited ${cli.proc.exitCode}: ${cli.stderr()}`);
    return cli.stdout().split('\n').find((l) => /^https?:\/\/\S+$/.test(l));
  }, 30_000);
  const browser = await followAsBrowser(printed, tamper);
  const exit = await cli.exited;
  return { cli, exit, printed, browser };
}

function readTokens(xdg: string): { servers: Record<string, { tokens?: { access_token: string; refresh_token?: string } }> } {
  return JSON.parse(readFileSync(path.join(xdg, 'gatehouse', 'tokens.json'), 'utf8'));
}

describe('remote servers that need sign-in (OAuth 2.1)', { timeout: 240_000 }, () => {
  let oauth: OAuthServer;
  let xdg: string;
  let env: NodeJS.ProcessEnv;
  let proj: { folder: string; configDir: string };
  let gateway: HttpGateway;
  let client: Client;
  /** Every secret seen during the run: none may appear in any output, log, audit record or state file. */
  const secrets = new Set<string>();

  before(async () => {
    oauth = await startOAuthServer('--ttl', '65');
    xdg = tempDir('gatehouse-xdg-');
    env = { XDG_CONFIG_HOME: xdg };
    proj = project({ remote: oauth.mcp });
    gateway = await startHttpGateway(proj.folder, env);
    client = await httpClient(gateway.info);
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await stopAllCli();
    for (const s of servers) s.proc.kill('SIGTERM');
  });

  it('shows needs_auth (not a crash, not a breaker failure) and fails calls at once with the way to sign in', async () => {
    await waitState(proj.configDir, 'remote', 'needs_auth');
    const view = stateOf(proj.configDir, 'remote');
    assert.match(view?.reason ?? '', /not signed in/);
    for (let i = 0; i < 6; i++) {
      const result = (await client.callTool({ name: 'remote__greet', arguments: { name: 'x' } })) as { isError?: boolean };
      assert.equal(result.isError, true);
      assert.match(resultText(result), /remote needs sign-in.*gatehouse auth login remote/s);
    }
    const after6 = readState(proj.configDir)?.downstreams?.find((d) => d.name === 'remote');
    assert.equal(after6?.circuit_state, 'closed', 'refused calls of a server waiting for sign-in do not open its circuit');
    const local = await client.callTool({ name: 'local__echo', arguments: { text: 'still here' } });
    assert.match(resultText(local), /still here/);
    const status = spawnCli(['status'], proj.folder, env);
    await status.exited;
    assert.match(status.stdout(), /remote.*needs.auth/);
    const health = await client.callTool({ name: 'gatehouse__health', arguments: {} });
    assert.match(resultText(health), /needs_auth/);
    const authStatus = spawnCli(['auth', 'status'], proj.folder, env);
    assert.equal((await authStatus.exited).code, 0);
    assert.match(authStatus.stdout(), /remote\s+not signed in/);
  });

  it('auth login --no-browser prints the URL alone on a line, takes the redirect on loopback, stores 0600 tokens outside the workspace; the running gateway becomes ready', async () => {
    const { exit, cli, printed, browser } = await login(proj.folder, env, 'remote');
    assert.equal(exit.code, 0, cli.stderr());
    assert.ok(printed.startsWith(new URL('/authorize', oauth.auth).href), printed);
    assert.equal(browser.status, 200);
    secrets.add(browser.callback.searchParams.get('code') ?? '');
    const registered = (await stats(oauth)).redirect_uris;
    assert.ok(registered.length > 0 && registered.every((u) => /^http:\/\/127\.0\.0\.1:\d+\/callback$/.test(u)), `only loopback redirect URIs are registered: ${registered.join(', ')}`);
    // The listener took one request and closed.
    await assert.rejects(fetch(browser.callback));
    const file = path.join(xdg, 'gatehouse', 'tokens.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const stored = readTokens(xdg).servers[oauth.mcp];
    assert.ok(stored?.tokens?.access_token && stored.tokens.refresh_token);
    secrets.add(stored.tokens.access_token).add(stored.tokens.refresh_token);
    assert.equal(existsSync(path.join(proj.folder, 'tokens.json')), false);
    assert.ok(!readdirSync(proj.configDir).some((f) => f.includes('token')), 'nothing token-like in the workspace config dir');

    await waitState(proj.configDir, 'remote', 'ready');
    const result = await client.callTool({ name: 'remote__greet', arguments: { name: 'Gatehouse' } });
    assert.match(resultText(result), /Hello, Gatehouse! \(client authenticated\)/);
    const authStatus = spawnCli(['auth', 'status'], proj.folder, env);
    await authStatus.exited;
    assert.match(authStatus.stdout(), /remote\s+signed in.*refreshable/);
  });

  it('refreshes before expiry and on a 401 after expiry', async () => {
    // 65 s tokens are refreshed 60 s early: about 5 s after the sign-in, with no call at all.
    await until('a refresh before expiry', async () => (await stats(oauth)).refreshes >= 1, 60_000, 250);
    await waitState(proj.configDir, 'remote', 'ready');
    const before = (await stats(oauth)).refreshes;
    await control(oauth, 'expire');
    const result = await client.callTool({ name: 'remote__greet', arguments: { name: 'again' } });
    assert.match(resultText(result), /Hello, again!/);
    assert.ok((await stats(oauth)).refreshes > before, 'the 401 was answered by a refresh');
    for (const s of Object.values(readTokens(xdg).servers)) {
      if (s.tokens) secrets.add(s.tokens.access_token).add(s.tokens.refresh_token ?? '');
    }
  });

  it('an expired refresh token puts the server back in needs_auth with a clear message; the others keep working', async () => {
    for (const s of Object.values(readTokens(xdg).servers)) if (s.tokens) secrets.add(s.tokens.access_token).add(s.tokens.refresh_token ?? '');
    await control(oauth, 'revoke-refresh');
    await control(oauth, 'expire');
    const result = (await client.callTool({ name: 'remote__greet', arguments: { name: 'x' } })) as { isError?: boolean };
    assert.equal(result.isError, true);
    assert.match(resultText(result), /remote needs sign-in: the authorization server refused the refresh token/);
    await waitState(proj.configDir, 'remote', 'needs_auth');
    const local = await client.callTool({ name: 'local__echo', arguments: { text: 'fine' } });
    assert.match(resultText(local), /fine/);
  });

  it('a redirect with the wrong state is refused and nothing is stored', async () => {
    const before = readFileSync(path.join(xdg, 'gatehouse', 'tokens.json'), 'utf8');
    const { exit, cli, browser } = await login(proj.folder, env, 'remote', (cb) => cb.searchParams.set('state', 'forged'));
    secrets.add(browser.callback.searchParams.get('code') ?? '');
    assert.equal(exit.code, 1);
    assert.match(cli.stderr(), /sign-in to 'remote' failed at redirect: the redirect's state does not match/);
    assert.equal(readFileSync(path.join(xdg, 'gatehouse', 'tokens.json'), 'utf8'), before);
    assert.equal(stateOf(proj.configDir, 'remote')?.state, 'needs_auth');
  });

  it('a user who refuses consent (error=access_denied on the redirect) gets a message naming the server and the step; nothing is stored', async () => {
    const before = readFileSync(path.join(xdg, 'gatehouse', 'tokens.json'), 'utf8');
    const { exit, cli, browser } = await login(proj.folder, env, 'remote', (cb) => {
      secrets.add(cb.searchParams.get('code') ?? '');
      cb.searchParams.delete('code');
      cb.searchParams.set('error', 'access_denied');
      cb.searchParams.set('error_description', 'the user declined');
    });
    assert.equal(browser.status, 200);
    assert.equal(exit.code, 1);
    assert.match(cli.stderr(), /sign-in to 'remote' failed at authorization: the authorization server answered 'access_denied': the user declined/);
    assert.equal(readFileSync(path.join(xdg, 'gatehouse', 'tokens.json'), 'utf8'), before);
    assert.equal(stateOf(proj.configDir, 'remote')?.state, 'needs_auth');
  });

  it('a user who closes the browser: auth login --timeout gives up naming the server and the step, with no listener left and nothing stored', async () => {
    const file = path.join(xdg, 'gatehouse', 'tokens.json');
    const before = readFileSync(file, 'utf8');
    const cli = spawnCli(['auth', 'login', 'remote', '--no-browser', '--timeout', '2'], proj.folder, env);
    const printed = await until(`the authorization URL (stderr: ${cli.stderr()})`, () => cli.stdout().split('\n').find((l) => /^https?:\/\/\S+$/.test(l)), 30_000);
    // Nobody visits the URL: the browser was closed.
    const exit = await cli.exited;
    assert.equal(exit.code, 1, cli.stderr());
    assert.match(cli.stderr(), /sign-in to 'remote' failed at redirect: no redirect came back within 2 s \(was the browser closed\?\)/);
    const redirect = /Waiting for the sign-in redirect on (http:\/\/127\.0\.0\.1:\d+\/callback)/.exec(cli.stderr())?.[1];
    assert.ok(redirect, cli.stderr());
    await assert.rejects(fetch(redirect), 'the loopback listener is gone');
    // A browser that comes back late finds nobody listening, and nothing is stored.
    await assert.rejects(followAsBrowser(printed));
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.equal(readTokens(xdg).servers[oauth.mcp]?.tokens, undefined);
    assert.equal(stateOf(proj.configDir, 'remote')?.state, 'needs_auth');
    const local = await client.callTool({ name: 'local__echo', arguments: { text: 'unaffected' } });
    assert.match(resultText(local), /unaffected/);
    const bad = spawnCli(['auth', 'login', 'remote', '--no-browser', '--timeout', 'soon'], proj.folder, env);
    assert.equal((await bad.exited).code, 1);
    assert.match(bad.stderr(), /--timeout takes a number of seconds, not 'soon'/);
  });

  it('logout forgets the tokens and the running gateway goes back to needs_auth', async () => {
    const { exit, cli } = await login(proj.folder, env, 'remote');
    assert.equal(exit.code, 0, cli.stderr());
    await waitState(proj.configDir, 'remote', 'ready');
    for (const s of Object.values(readTokens(xdg).servers)) if (s.tokens) secrets.add(s.tokens.access_token).add(s.tokens.refresh_token ?? '');
    const out = spawnCli(['auth', 'logout', 'remote'], proj.folder, env);
    assert.equal((await out.exited).code, 0);
    assert.match(out.stderr(), /Signed out of 'remote'/);
    assert.equal(readTokens(xdg).servers[oauth.mcp], undefined);
    await waitState(proj.configDir, 'remote', 'needs_auth');
    const result = (await client.callTool({ name: 'remote__greet', arguments: { name: 'x' } })) as { isError?: boolean };
    assert.equal(result.isError, true);
  });

  it('bad input: missing or malformed metadata and a refused registration name the server and the step', async () => {
    const noPrm = await startOAuthServer('--no-prm');
    const badPrm = await startOAuthServer('--bad-prm');
    const closed = await startOAuthServer('--refuse-registration');
    const bad = project({ 'no-meta': noPrm.mcp, 'bad-meta': badPrm.mcp, closed: closed.mcp });
    const run = async (server: string) => {
      const cli = spawnCli(['auth', 'login', server, '--no-browser'], bad.folder, env);
      const exit = await cli.exited;
      assert.equal(exit.code, 1, `${server}: ${cli.stdout()} ${cli.stderr()}`);
      return cli.stderr();
    };
    assert.match(await run('no-meta'), /sign-in to 'no-meta' failed at (discovery|registration): /);
    assert.match(await run('bad-meta'), /sign-in to 'bad-meta' failed at discovery: /);
    assert.match(await run('closed'), /sign-in to 'closed' failed at registration: .*registration is closed/);
  });

  it('no token, code or client secret in any log, audit record, state file or output', async () => {
    secrets.delete('');
    assert.ok(secrets.size >= 4, `collected ${secrets.size} secrets`);
    const texts: Array<[string, string]> = [
      ['gateway stderr', gateway.stderr()],
      ['gateway stdout', gateway.stdout()],
      ['serve.state.json', readFileSync(path.join(proj.configDir, 'serve.state.json'), 'utf8')],
    ];
    for (const f of readdirSync(proj.configDir)) {
      if (f.startsWith('audit')) texts.push([f, readFileSync(path.join(proj.configDir, f), 'utf8')]);
    }
    const status = spawnCli(['status', '--json'], proj.folder, env);
    await status.exited;
    texts.push(['status --json', status.stdout()]);
    for (const [where, text] of texts) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `a secret appeared in ${where}`);
    }
  });
});

describe('a client_id configured by hand, for a server without dynamic client registration', { timeout: 180_000 }, () => {
  after(async () => {
    await stopAllCli();
    for (const s of servers) s.proc.kill('SIGTERM');
  });

  it('signs in, calls and refreshes as the configured public client, registering nothing and storing no client', async () => {
    const oauth = await startOAuthServer('--refuse-registration', '--client-id', 'gatehouse-by-hand');
    const xdg = tempDir('gatehouse-xdg-');
    const env = { XDG_CONFIG_HOME: xdg };
    const proj = project({ byhand: { url: oauth.mcp, auth: { client_id: 'gatehouse-by-hand', scopes: ['mcp:tools'] } } });
    const gateway = await startHttpGateway(proj.folder, env);
    const client = await httpClient(gateway.info);
    try {
      await waitState(proj.configDir, 'byhand', 'needs_auth');
      const { exit, cli, printed } = await login(proj.folder, env, 'byhand');
      assert.equal(exit.code, 0, cli.stderr());
      const asked = new URL(printed).searchParams;
      assert.equal(asked.get('client_id'), 'gatehouse-by-hand');
      assert.equal(asked.get('scope'), 'mcp:tools');
      assert.match(asked.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
      const stored = readTokens(xdg).servers[oauth.mcp] as { tokens?: unknown; client?: unknown };
      assert.ok(stored?.tokens, 'tokens stored');
      assert.equal(stored.client, undefined, 'a configured client is not stored: the registry names it');

      await waitState(proj.configDir, 'byhand', 'ready');
      assert.match(resultText(await client.callTool({ name: 'byhand__greet', arguments: { name: 'by hand' } })), /Hello, by hand! \(client authenticated\)/);
      await control(oauth, 'expire');
      assert.match(resultText(await client.callTool({ name: 'byhand__greet', arguments: { name: 'refreshed' } })), /Hello, refreshed!/);
      const seen = await stats(oauth);
      assert.equal(seen.registrations, 0, 'nothing was registered');
      assert.deepEqual(seen.code_clients, ['gatehouse-by-hand']);
      assert.ok(seen.refresh_clients.length >= 1 && seen.refresh_clients.every((c) => c === 'gatehouse-by-hand'), JSON.stringify(seen.refresh_clients));
    } finally {
      await client.close().catch(() => undefined);
    }
  });

  it('a client_id the authorization server does not know: its page says so, auth login gives up after --timeout, nothing is stored', async () => {
    const oauth = await startOAuthServer('--refuse-registration', '--client-id', 'gatehouse-by-hand');
    const xdg = tempDir('gatehouse-xdg-');
    const proj = project({ typo: { url: oauth.mcp, auth: { client_id: 'gatehouse-by-hnad' } } });
    const cli = spawnCli(['auth', 'login', 'typo', '--no-browser', '--timeout', '3'], proj.folder, { XDG_CONFIG_HOME: xdg });
    const printed = await until(`the authorization URL (stderr: ${cli.stderr()})`, () => cli.stdout().split('\n').find((l) => /^https?:\/\/\S+$/.test(l)), 30_000);
    // The authorization server shows the user an error page instead of redirecting back (RFC 6749 §4.1.2.1).
    const page = await fetch(printed, { redirect: 'manual' });
    assert.equal(page.status, 400);
    assert.match(await page.text(), /invalid_client|invalid client/i);
    const exit = await cli.exited;
    assert.equal(exit.code, 1);
    assert.match(cli.stderr(), /sign-in to 'typo' failed at redirect: no redirect came back within 3 s/);
    assert.equal(existsSync(path.join(xdg, 'gatehouse', 'tokens.json')), false);
    assert.equal((await stats(oauth)).codes, 0);
  });
});

describe('start-up with an expired access token', { timeout: 180_000 }, () => {
  after(async () => {
    await stopAllCli();
    for (const s of servers) s.proc.kill('SIGTERM');
  });

  it('the connect and the requests that follow it share one refresh: one refresh grant, none refused, the server ready', async () => {
    const oauth = await startOAuthServer('--ttl', '3600');
    const xdg = tempDir('gatehouse-xdg-');
    const env = { XDG_CONFIG_HOME: xdg };
    const proj = project({ remote: oauth.mcp });
    const { exit, cli } = await login(proj.folder, env, 'remote');
    assert.equal(exit.code, 0, cli.stderr());
    // The gateway was closed while the token expired: the authorization server has forgotten it,
    // and the store says so. The refresh token still works, once (the fixture rotates it).
    await control(oauth, 'expire');
    const file = path.join(xdg, 'gatehouse', 'tokens.json');
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { servers: Record<string, { expires_at?: number }> };
    stored.servers[oauth.mcp]!.expires_at = Date.now() - 60_000;
    writeFileSync(file, JSON.stringify(stored), { mode: 0o600 });
    assert.deepEqual([(await stats(oauth)).refreshes, (await stats(oauth)).refused_refreshes], [0, 0]);

    const gateway = await startHttpGateway(proj.folder, env);
    const client = await httpClient(gateway.info);
    try {
      await waitState(proj.configDir, 'remote', 'ready').catch(async (err: Error) => {
        // On the old code the second refresh was refused and the server went to needs_auth.
        throw new Error(`${err.message}; the authorization server saw ${JSON.stringify(await stats(oauth))}`);
      });
      assert.match(resultText(await client.callTool({ name: 'remote__greet', arguments: { name: 'fresh' } })), /Hello, fresh! \(client authenticated\)/);
      const after = await stats(oauth);
      assert.equal(after.refused_refreshes, 0, 'no second refresh with the refresh token the first one used up');
      assert.equal(after.refreshes, 1, 'exactly one refresh grant');
    } finally {
      await client.close().catch(() => undefined);
    }
  });
});

describe('clock skew: a token already expired by the gateway\'s clock when it arrives', { timeout: 180_000 }, () => {
  after(async () => {
    await stopAllCli();
    for (const s of servers) s.proc.kill('SIGTERM');
  });

  it('is used until the server refuses it, then refreshed once on the 401: no refresh loop', async () => {
    // expires_in is -100 s (a server whose clock runs 3700 s ahead); the token lives an hour there.
    const oauth = await startOAuthServer('--ttl', '3600', '--skew', '3700');
    const xdg = tempDir('gatehouse-xdg-');
    const env = { XDG_CONFIG_HOME: xdg };
    const proj = project({ skewed: oauth.mcp });
    const gateway = await startHttpGateway(proj.folder, env);
    const client = await httpClient(gateway.info);
    try {
      await waitState(proj.configDir, 'skewed', 'needs_auth');
      const { exit, cli } = await login(proj.folder, env, 'skewed');
      assert.equal(exit.code, 0, cli.stderr());
      await waitState(proj.configDir, 'skewed', 'ready');
      assert.match(resultText(await client.callTool({ name: 'skewed__greet', arguments: { name: 'skew' } })), /Hello, skew! \(client authenticated\)/);
      const status = spawnCli(['auth', 'status'], proj.folder, env);
      await status.exited;
      assert.match(status.stdout(), /skewed\s+signed in, access token expired .*refreshable/);
      assert.equal((await stats(oauth)).refreshes, 0, 'a token that was expired on arrival is not refreshed on a timer (each refresh would bring another)');

      await control(oauth, 'expire');
      assert.match(resultText(await client.callTool({ name: 'skewed__greet', arguments: { name: 'after 401' } })), /Hello, after 401!/);
      assert.equal((await stats(oauth)).refreshes, 1, 'the 401 was answered by one refresh');
      assert.match(resultText(await client.callTool({ name: 'skewed__greet', arguments: { name: 'still' } })), /Hello, still!/);
      assert.equal((await stats(oauth)).refreshes, 1, 'and the refreshed (again expired-on-arrival) token is used, not refreshed again');
      assert.equal(stateOf(proj.configDir, 'skewed')?.state, 'ready');
    } finally {
      await client.close().catch(() => undefined);
    }
  });
});

/** A port that was free a moment ago (the SDK's example server takes its ports from the environment). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe("the SDK's own example server (simpleStreamableHttp --oauth) behind gatehouse serve", { timeout: 180_000 }, () => {
  let example: ChildProcess | undefined;
  after(async () => {
    await stopAllCli();
    example?.kill('SIGINT');
  });

  it('needs_auth, then auth login --no-browser, then ready and calling its tool', async () => {
    const [mcpPort, authPort] = [await freePort(), await freePort()];
    const script = path.join(repoRoot, 'node_modules/@modelcontextprotocol/sdk/dist/esm/examples/server/simpleStreamableHttp.js');
    example = spawn(process.execPath, [script, '--oauth'], { env: { ...process.env, MCP_PORT: String(mcpPort), MCP_AUTH_PORT: String(authPort) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    example.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    example.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
    await until('the example server to listen on both ports', () => example?.exitCode === null && out.includes(`listening on port ${mcpPort}`) && out.includes(`listening on port ${authPort}`), 30_000, 100);
    const xdg = tempDir('gatehouse-xdg-');
    const env = { XDG_CONFIG_HOME: xdg };
    const proj = project({ example: `http://localhost:${mcpPort}/mcp` });
    const gateway = await startHttpGateway(proj.folder, env);
    const client = await httpClient(gateway.info);
    try {
      await waitState(proj.configDir, 'example', 'needs_auth');
      const { exit, cli } = await login(proj.folder, env, 'example');
      assert.equal(exit.code, 0, cli.stderr());
      await waitState(proj.configDir, 'example', 'ready');
      const result = await client.callTool({ name: 'example__greet', arguments: { name: 'Gatehouse' } });
      assert.match(resultText(result), /Hello, Gatehouse!/);
    } finally {
      await client.close().catch(() => undefined);
    }
  });
});

describe('VS Code accounts (auth.provider): the session token is sent, account changes are followed', { timeout: 120_000 }, () => {
  /** A stand-in for the host's VscodeAccounts: the core's own AccountSessions interface, no vscode. */
  class Accounts implements AccountSessions {
    current: string | undefined;
    asked: Array<{ provider: string; scopes: readonly string[] }> = [];
    private readonly emitter = new Emitter<void>();
    readonly onDidChange = this.emitter.event;
    async token(provider: AccountProvider, scopes: readonly string[]): Promise<string | undefined> {
      this.asked.push({ provider, scopes });
      return this.current;
    }
    change(token: string | undefined): void {
      this.current = token;
      this.emitter.fire();
    }
  }

  let http: HttpServer | undefined;
  let url = '';
  const pools: DownstreamPool[] = [];

  before(async () => {
    // A resource server that accepts only the account's token (as GitHub's accepts a GitHub token).
    const express = (await import('express')).default;
    const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
    const { StreamableHTTPServerTransport } = await import('@modelcontextprotocol/sdk/server/streamableHttp.js');
    const { requireBearerAuth } = await import('@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js');
    const { InvalidTokenError } = await import('@modelcontextprotocol/sdk/server/auth/errors.js');
    const app = express();
    app.use(express.json());
    const bearer = requireBearerAuth({
      verifier: {
        verifyAccessToken: async (token: string) => {
          if (!token.startsWith('gho_account')) throw new InvalidTokenError('not a token of this account');
          return { token, clientId: 'vscode', scopes: ['repo'], expiresAt: Math.floor(Date.now() / 1000) + 3600 };
        },
      },
    });
    app.post('/mcp', bearer, async (req, res) => {
      const server = new McpServer({ name: 'account-fixture', version: '1.0.0' });
      server.registerTool('whoami', { description: 'who' }, async (extra) => ({ content: [{ type: 'text', text: `token ends ${extra.authInfo?.token.slice(-1)}` }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => void transport.close());
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    });
    http = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(http!.address() as { port: number }).port}/mcp`;
  });

  after(async () => {
    for (const pool of pools) await pool.stop();
    http?.closeAllConnections();
    http?.close();
  });

  function accountPool(accounts: AccountSessions | undefined): DownstreamPool {
    const registry = registrySchema.parse({ version: '1', servers: [{ name: 'gh', url, auth: { provider: 'github', scopes: ['repo'] } }] });
    const pool = new DownstreamPool(registry, {
      tunables: tunables(),
      clock: systemClock,
      hostEnv: process.env,
      baseDir: repoRoot,
      logger: nullLogger,
      sessionId: randomUUID(),
      accounts,
    });
    pools.push(pool);
    pool.start();
    return pool;
  }

  const viewOf = (pool: DownstreamPool) => pool.snapshot().find((d) => d.name === 'gh');

  it('needs_auth until the account signs in, ready with its token, needs_auth again on sign-out', async () => {
    const accounts = new Accounts();
    const pool = accountPool(accounts);
    await until('gh needs auth', () => viewOf(pool)?.state === 'needs_auth', 30_000, 50);
    assert.match(viewOf(pool)?.reason ?? '', /sign in with your GitHub account in VS Code \(scopes: repo\)/);
    assert.deepEqual(accounts.asked[0], { provider: 'github', scopes: ['repo'] });

    accounts.change('gho_account1');
    await until('gh ready after the account signed in', () => viewOf(pool)?.state === 'ready', 30_000, 50);
    assert.equal(textOf(await pool.callTool('gh', 'whoami', {})), 'token ends 1');

    accounts.change(undefined);
    await until('gh needs auth after sign-out', () => viewOf(pool)?.state === 'needs_auth', 30_000, 50);
    assert.match(viewOf(pool)?.reason ?? '', /signed out of the GitHub account/);
    await assert.rejects(pool.callTool('gh', 'whoami', {}), /gh needs sign-in/);
  });

  it('outside VS Code (no accounts) the server says it signs in only there', async () => {
    const pool = accountPool(undefined);
    await until('gh needs auth', () => viewOf(pool)?.state === 'needs_auth', 30_000, 50);
    assert.match(viewOf(pool)?.reason ?? '', /VS Code github account .*only the VS Code extension/);
  });
});
