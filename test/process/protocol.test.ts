import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  PromptListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type ClientCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { ensureCliBuilt } from '../helpers/cli';
import { repoRoot, tempDir } from '../helpers/fixtures';
import { makeProject, type ProjectServer } from '../helpers/gatewayProject';
import { cliEnv, httpClient, resultText, spawnCli, startHttpGateway, stopAllCli } from '../helpers/gatewayProcess';
import { until } from '../helpers/poll';

const everything: ProjectServer = {
  name: 'everything',
  command: process.execPath,
  args: [path.join(repoRoot, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
};
const memory: ProjectServer = {
  name: 'memory',
  command: process.execPath,
  args: [path.join(repoRoot, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js')],
};
const catalog = (tag: string, env: Record<string, string> = {}): ProjectServer => ({ name: tag, fixture: 'catalog.mjs', env: { TAG: tag, ...env } });

const clients: Client[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await stopAllCli();
});

/** An SDK client over stdio to `gatehouse serve`, with client capabilities and handlers set before it connects. */
async function open(folder: string, capabilities: ClientCapabilities = {}, setup?: (c: Client) => void): Promise<Client> {
  const client = new Client({ name: 'protocol-test', version: '1.0.0' }, { capabilities });
  setup?.(client);
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [ensureCliBuilt(), 'serve'], cwd: folder, env: cliEnv() as Record<string, string>, stderr: 'ignore' }),
  );
  clients.push(client);
  return client;
}

const policy = { autonomy_level: 'L1', blocked_paths: ['.env'], gateway: { result_max_bytes: 100_000 } };

function auditRecords(configDir: string): Array<Record<string, unknown> & { metadata?: Record<string, unknown> }> {
  try {
    return readFileSync(path.join(configDir, 'audit.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  } catch {
    return [];
  }
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  assert.fail('expected an MCP error');
}

const SECRET = `ghp_${'A1b2C3d4E5'.repeat(4)}`;

describe('the whole MCP protocol through gatehouse serve', () => {
  const project = makeProject([everything, catalog('alpha'), catalog('beta'), memory], policy);
  let client: Client;

  test('capabilities: prompts, resources with subscribe, completions and logging are advertised', async () => {
    client = await open(project.folder);
    const caps = client.getServerCapabilities();
    assert.deepEqual(caps?.prompts, { listChanged: true });
    assert.deepEqual(caps?.resources, { subscribe: true, listChanged: true });
    assert.ok(caps?.completions && caps.logging && caps.tools);
  });

  test('prompts of every server are listed as server__prompt with title, description and arguments', async () => {
    const { prompts } = await client.listPrompts();
    const names = prompts.map((p) => p.name);
    for (const n of ['everything__simple-prompt', 'everything__args-prompt', 'everything__completable-prompt', 'alpha__greet', 'beta__greet']) {
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    }
    const greet = prompts.find((p) => p.name === 'alpha__greet');
    assert.equal(greet?.title, 'Greet');
    assert.equal(greet?.description, 'Greets from alpha');
    assert.deepEqual(greet?.arguments?.map((a) => [a.name, a.required]), [['name', true]]);
    assert.deepEqual(
      prompts.find((p) => p.name === 'everything__args-prompt')?.arguments?.map((a) => a.name),
      ['city', 'state'],
    );
    // Secrets in a prompt's description and argument descriptions are redacted, the prompt kept.
    assert.doesNotMatch(JSON.stringify(prompts), new RegExp(SECRET));
    const keyed = prompts.find((p) => p.name === 'alpha__keyed');
    assert.match(keyed?.description ?? '', /\[REDACTED:GitHub Token\]/);
    assert.match(keyed?.arguments?.[0]?.description ?? '', /\[REDACTED:GitHub Token\]/);
  });

  test('prompts/get is routed to its server, roles and description kept, secrets redacted, audited with kind prompt', async () => {
    const args = await client.getPrompt({ name: 'everything__args-prompt', arguments: { city: 'Lisbon' } });
    assert.match(JSON.stringify(args.messages), /Lisbon/);
    const greet = await client.getPrompt({ name: 'beta__greet', arguments: { name: 'Ann' } });
    assert.equal(greet.description, 'greeting of beta');
    assert.deepEqual(greet.messages.map((m) => m.role), ['user', 'assistant']);
    assert.deepEqual(greet.messages[0]?.content, { type: 'text', text: 'Hello Ann from beta' });
    assert.doesNotMatch(JSON.stringify(greet), new RegExp(SECRET));
    assert.match(JSON.stringify(greet.messages[1]), /\[REDACTED:GitHub Token\]/);
    const record = await until('the prompt audited', () =>
      auditRecords(project.configDir).find((r) => r.tool_name === 'greet' && r.server_name === 'beta'),
    );
    assert.equal(record.metadata?.kind, 'prompt');
    assert.equal(record.status, 'allowed');
    assert.equal(record.tier, 'read');
    assert.doesNotMatch(readFileSync(path.join(project.configDir, 'audit.jsonl'), 'utf8'), new RegExp(SECRET));
  });

  test('prompts share the naming rules of tools: unknown server, missing prefix, reserved namespace', async () => {
    assert.match(await rejection(client.getPrompt({ name: 'ghost__greet' })), /Unknown server 'ghost' in 'ghost__greet'. Servers: everything, alpha, beta, memory/);
    assert.match(await rejection(client.getPrompt({ name: 'greet' })), /Prompt 'greet' is missing the server prefix: expected <server>__<prompt>/);
    assert.match(await rejection(client.getPrompt({ name: 'gatehouse__greet' })), /reserved namespace/);
    await until('refusals audited', () => auditRecords(project.configDir).some((r) => r.metadata?.reason_code === 'unknown_server' && r.metadata?.kind === 'prompt'));
  });

  test('a prompt whose description looks like an injection is withheld from the list and refused', async () => {
    const { prompts } = await client.listPrompts();
    assert.ok(!prompts.some((p) => p.name === 'alpha__sneaky'), 'withheld');
    assert.match(await rejection(client.getPrompt({ name: 'alpha__sneaky' })), /Prompt 'alpha__sneaky' is withheld by Gatehouse/);
  });

  test('a prompt carrying an injection is blocked; a blocked path in its arguments is refused', async () => {
    assert.match(await rejection(client.getPrompt({ name: 'alpha__inject' })), /Likely prompt injection detected/);
    assert.match(await rejection(client.getPrompt({ name: 'alpha__path', arguments: { file: '/srv/app/.env' } })), /blocked path "\.env"/);
  });

  test('resources of two servers with overlapping URIs and schemes each read back from their own server', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((r) => r.uri);
    // Listed by all three: rewritten for each; unique URIs on the shared demo:// scheme: unchanged.
    for (const s of ['everything', 'alpha', 'beta']) assert.ok(uris.includes(`gatehouse://${s}/demo://resource/static/document/architecture.md`), uris.join('\n'));
    assert.ok(!uris.includes('demo://resource/static/document/architecture.md'));
    assert.ok(uris.includes('demo://resource/static/document/features.md'), 'unique: unchanged');
    assert.ok(uris.includes('demo://alpha/own') && uris.includes('demo://beta/own'));
    const readable = resources.filter((r) => !/injection|\.env|\/big/.test(r.uri));
    assert.ok(readable.length >= 15, `${readable.length} readable`);
    for (const r of readable) {
      const { contents } = await client.readResource({ uri: r.uri });
      assert.equal(contents[0]?.uri, r.uri, 'contents are reported under the URI the client read');
      const text = JSON.stringify(contents);
      const owner = r.uri.startsWith('gatehouse://') ? r.uri.slice('gatehouse://'.length).split('/')[0] : /^demo:\/\/(alpha|beta)\//.exec(r.uri)?.[1] ?? /^secret:\/\/(alpha|beta)\//.exec(r.uri)?.[1] ?? 'everything';
      for (const tag of ['alpha', 'beta']) {
        if (owner === tag && r.uri.includes('architecture')) assert.match(text, new RegExp(`architecture from ${tag}`), r.uri);
        if (owner === tag && r.uri.endsWith('/own')) assert.match(text, new RegExp(`own of ${tag}`), r.uri);
        if (owner === 'everything') assert.doesNotMatch(text, /(architecture from|own of) (alpha|beta)/, r.uri);
      }
    }
  });

  test('templates: rewritten on a shared scheme, expanded by the client, read from their server; an ambiguous URI is refused with the spellings to use', async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    const templates = resourceTemplates.map((t) => t.uriTemplate);
    assert.ok(templates.includes('gatehouse://alpha/demo://resource/dynamic/text/{id}'), templates.join('\n'));
    assert.ok(templates.includes('gatehouse://everything/demo://resource/dynamic/text/{resourceId}'));
    const alpha = await client.readResource({ uri: 'gatehouse://alpha/demo://resource/dynamic/text/7' });
    assert.equal((alpha.contents[0] as { text?: string }).text, 'item 7 of alpha');
    const ev = await client.readResource({ uri: 'gatehouse://everything/demo://resource/dynamic/text/7' });
    assert.doesNotMatch(JSON.stringify(ev), /of alpha|of beta/);
    const ambiguous = await rejection(client.readResource({ uri: 'demo://resource/dynamic/text/7' }));
    assert.match(ambiguous, /could come from everything or alpha or beta; read it as gatehouse:\/\/everything\/demo:\/\/resource\/dynamic\/text\/7/);
    assert.match(await rejection(client.readResource({ uri: 'gatehouse://ghost/x://y' })), /Unknown server 'ghost'/);
    assert.match(await rejection(client.readResource({ uri: 'gatehouse://gatehouse/x://y' })), /reserved namespace/);
  });

  test('governance on resources: blocked path, redaction of text and of a text blob, injection, size cap, audit kind', async () => {
    assert.match(await rejection(client.readResource({ uri: 'gatehouse://alpha/file:///project/.env' })), /blocked path "\.env"/);
    const token = await client.readResource({ uri: 'secret://alpha/token' });
    assert.doesNotMatch(JSON.stringify(token), new RegExp(SECRET));
    const blob = (await client.readResource({ uri: 'secret://alpha/blob' })).contents[0] as { blob?: string; mimeType?: string };
    assert.equal(blob.mimeType, 'application/json');
    assert.equal(Buffer.from(blob.blob ?? '', 'base64').toString('utf8'), '{"key":"[REDACTED:GitHub Token]"}', 'still a blob, redacted inside');
    assert.match(await rejection(client.readResource({ uri: 'secret://beta/injection' })), /Likely prompt injection/);
    const big = await client.readResource({ uri: 'secret://alpha/big' });
    assert.ok(JSON.stringify(big).length < 110_000, 'capped');
    assert.match(JSON.stringify(big), /over the 100000-byte limit/);
    // A secret in a URI never reaches the audit file (nor the child: the argument is redacted).
    await client.readResource({ uri: `gatehouse://alpha/secret://alpha/token?key=${SECRET}` }).catch(() => undefined);
    await until('the URI with a secret audited', () => auditRecords(project.configDir).find((r) => String(r.tool_name).startsWith('secret://alpha/token?key=[REDACTED')));
    assert.doesNotMatch(readFileSync(path.join(project.configDir, 'audit.jsonl'), 'utf8'), new RegExp(SECRET));
    const record = await until('the read audited', () => auditRecords(project.configDir).find((r) => r.tool_name === 'secret://alpha/token'));
    assert.equal(record.metadata?.kind, 'resource');
    assert.deepEqual(record.redacted_fields, ['result.content[0].resource.text']);
  });

  test('HALT refuses prompts and resources', async () => {
    const halt = path.join(project.configDir, 'HALT');
    writeFileSync(halt, 'frozen for the test\n');
    try {
      assert.match(await rejection(client.getPrompt({ name: 'alpha__greet', arguments: { name: 'x' } })), /frozen for the test/);
      assert.match(await rejection(client.readResource({ uri: 'demo://alpha/own' })), /frozen for the test/);
    } finally {
      rmSync(halt, { force: true });
    }
    assert.equal((await client.readResource({ uri: 'demo://alpha/own' })).contents.length, 1);
  });

  test('completion/complete is routed by prompt name and by template', async () => {
    const byPrompt = await client.complete({ ref: { type: 'ref/prompt', name: 'everything__completable-prompt' }, argument: { name: 'department', value: 'Eng' } });
    assert.deepEqual(byPrompt.completion.values, ['Engineering']);
    const byTemplate = await client.complete({
      ref: { type: 'ref/resource', uri: 'gatehouse://alpha/demo://resource/dynamic/text/{id}' },
      argument: { name: 'id', value: '' },
    });
    assert.deepEqual(byTemplate.completion.values, ['1', '2', '3']);
    assert.match(await rejection(client.complete({ ref: { type: 'ref/prompt', name: 'nope' }, argument: { name: 'a', value: '' } })), /missing the server prefix/);
  });

  test('completions and subscriptions are audited (what they name, never the typed value); log messages relayed redacted and audited as a summary', async () => {
    const completion = await until('the completion audited', () =>
      auditRecords(project.configDir).find((r) => r.metadata?.kind === 'completion' && r.tool_name === 'completable-prompt' && r.status === 'allowed'),
    );
    assert.equal(completion.server_name, 'everything');
    assert.doesNotMatch(JSON.stringify(completion), /Eng/, 'neither the value typed nor the values offered');
    await until('the refused completion audited', () => auditRecords(project.configDir).find((r) => r.metadata?.kind === 'completion' && r.status === 'denied'));

    await client.subscribeResource({ uri: 'demo://alpha/own' });
    await client.unsubscribeResource({ uri: 'demo://alpha/own' });
    await rejection(client.subscribeResource({ uri: `gatehouse://ghost/x://y?key=${SECRET}` }));
    await until('subscriptions audited', () => {
      const r = auditRecords(project.configDir);
      return (
        r.some((x) => x.metadata?.kind === 'subscribe' && x.tool_name === 'demo://alpha/own' && x.server_name === 'alpha' && x.status === 'allowed') &&
        r.some((x) => x.metadata?.kind === 'unsubscribe' && x.tool_name === 'demo://alpha/own') &&
        r.some((x) => x.metadata?.kind === 'subscribe' && x.status === 'denied' && /REDACTED/.test(String(x.tool_name)))
      );
    });

    const logs: Array<{ logger?: string; level: string; data?: unknown }> = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
    await client.getPrompt({ name: 'alpha__log' });
    await until('both log messages relayed', () => logs.filter((l) => l.logger === 'alpha').length >= 2);
    const relayed = logs.filter((l) => l.logger === 'alpha');
    assert.doesNotMatch(JSON.stringify(relayed), new RegExp(SECRET));
    assert.deepEqual(relayed.map((l) => l.level), ['warning', 'error'], 'in order');
    assert.deepEqual(relayed[0]?.data, { note: 'key [REDACTED:GitHub Token]' }, 'still an object, redacted inside');
    assert.equal(relayed[1]?.data, 'plain [REDACTED:GitHub Token]');
    // The first message of a server is recorded at once; the rest of its minute as one count.
    const summary = await until('the log summary audited', () => auditRecords(project.configDir).find((r) => r.metadata?.kind === 'log' && r.server_name === 'alpha'));
    assert.equal(summary.tool_name, 'notifications/message');
    assert.deepEqual(summary.metadata?.levels, { warning: 1 });
    assert.doesNotMatch(readFileSync(path.join(project.configDir, 'audit.jsonl'), 'utf8'), new RegExp(SECRET));
  });

  test('counts: gatehouse__health and `gatehouse status` show prompts and resources', async () => {
    const health = JSON.parse(resultText(await client.callTool({ name: 'gatehouse__health', arguments: {} }))) as {
      downstreams: Array<{ name: string; prompts_count: number | null; resources_count: number | null }>;
    };
    const ev = health.downstreams.find((d) => d.name === 'everything');
    assert.equal(ev?.prompts_count, 4);
    assert.equal(ev?.resources_count, 7);
    assert.equal(health.downstreams.find((d) => d.name === 'memory')?.prompts_count, null, 'memory offers no prompts');
    const out = await until('a status line with the counts', async () => {
      const p = spawnCli(['status'], project.folder);
      await p.exited;
      return /everything: ready · \d+ tools · 4 prompts · 7 resources/.exec(p.stdout())?.[0];
    });
    assert.ok(out);
  });

  test('progress reaches the caller under its own token', async () => {
    const seen: Array<{ progress: number; total?: number }> = [];
    const result = await client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 1, steps: 3 } }, undefined, {
      onprogress: (p) => seen.push(p),
    });
    assert.match(resultText(result), /completed/i);
    // The SDK client (1.32) runs a progress handler a microtask after it reads the notification
    // and drops it once the response is in: a last step read in the same chunk as the result is
    // lost (also without the gateway). The steps before it, a third of the duration apart, arrive.
    assert.ok(seen.length >= 1, 'progress arrived');
    assert.deepEqual(seen.map((p) => p.progress), [1, 2, 3].slice(0, seen.length));
    assert.ok(seen.every((p) => p.total === 3));
  });
});

describe('server → client requests and notifications', () => {
  test('two concurrent sessions of one gateway (HTTP): each sampling request comes back to its own session; roots and elicitation too', async () => {
    const project = makeProject([everything], policy);
    const gw = await startHttpGateway(project.folder);
    const session = async (name: string) => {
      const c = new Client({ name, version: '1' }, { capabilities: { sampling: {}, roots: { listChanged: true }, elicitation: { form: {} } } });
      c.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
        model: name,
        role: 'assistant',
        content: { type: 'text', text: `${name} answers ${JSON.stringify(req.params.messages[0]?.content)}` },
      }));
      c.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: `file:///${name}`, name }] }));
      c.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'decline' }));
      await c.connect(new StreamableHTTPClientTransport(new URL(gw.info.url), { requestInit: { headers: { Authorization: `Bearer ${gw.info.token}` } } }));
      clients.push(c);
      return c;
    };
    const [a, b] = await Promise.all([session('first'), session('second')]);
    const ask = (c: Client, prompt: string) =>
      c.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt, maxTokens: 10 } }).then(resultText);
    // Both sessions connected, their calls interleaved: each child request goes to the session
    // whose call is in flight. (Calls of two sessions in flight on one server at the same instant
    // cannot be told apart: the protocol carries no correlation; the most recent one is asked.)
    for (let i = 0; i < 3; i++) {
      assert.match(await ask(a, `to-a-${i}`), new RegExp(`first answers.*to-a-${i}`));
      assert.match(await ask(b, `to-b-${i}`), new RegExp(`second answers.*to-b-${i}`));
    }
    const elicited = resultText(await b.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} }));
    assert.match(elicited, /decline/i);
    await until('sampling audited', () => auditRecords(project.configDir).filter((r) => r.metadata?.kind === 'sampling' && r.status === 'allowed').length >= 6);
    // Audit records are group-committed under rea's lock: wait for it, as for sampling above.
    await until('elicitation audited', () => auditRecords(project.configDir).some((r) => r.metadata?.kind === 'elicitation'));
  });

  test("a session's subscription is dropped at the child when the last subscriber disconnects; updates go only to subscribers", async () => {
    const subFile = path.join(tempDir('gatehouse-sub-'), 'subs');
    const project = makeProject([catalog('alpha', { SUB_FILE: subFile })], policy);
    const gw = await startHttpGateway(project.folder);
    const connect = async (name: string) => {
      const transport = new StreamableHTTPClientTransport(new URL(gw.info.url), { requestInit: { headers: { Authorization: `Bearer ${gw.info.token}` } } });
      const client = new Client({ name, version: '1' });
      await client.connect(transport);
      clients.push(client);
      // A client that leaves ends its session (DELETE), as the SDK's terminateSession does.
      return { client, leave: async () => (await transport.terminateSession(), await client.close()) };
    };
    const { client: a, leave: leaveA } = await connect('a');
    const { client: b, leave: leaveB } = await connect('b');
    const subs = () => (existsSync(subFile) ? readFileSync(subFile, 'utf8').trim().split('\n') : []);
    await a.subscribeResource({ uri: 'demo://alpha/own' });
    await b.subscribeResource({ uri: 'demo://alpha/own' });
    assert.deepEqual(subs(), ['subscribe demo://alpha/own'], 'the child is subscribed once');
    await leaveA();
    await b.listPrompts();
    assert.deepEqual(subs(), ['subscribe demo://alpha/own'], 'b still wants it');
    await leaveB();
    await until('unsubscribed at the child', () => subs().includes('unsubscribe demo://alpha/own'));
  });

  test('roots: a child asks the client that declared them; notifications/roots/list_changed reaches the child', async () => {
    const project = makeProject([everything], policy);
    let roots = [{ uri: 'file:///first', name: 'first' }];
    const c = await open(project.folder, { roots: { listChanged: true } }, (client) =>
      client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots })),
    );
    await until('everything listed', async () => (await c.listTools()).tools.some((t) => t.name === 'everything__get-roots-list'));
    // The child asked for roots when it started, before any client was there: tell it they changed.
    await c.sendRootsListChanged();
    await until('the first roots at the child', async () =>
      resultText(await c.callTool({ name: 'everything__get-roots-list', arguments: {} })).includes('file:///first'),
    );
    roots = [{ uri: 'file:///second', name: 'second' }];
    await c.sendRootsListChanged();
    await until('the changed roots at the child', async () =>
      resultText(await c.callTool({ name: 'everything__get-roots-list', arguments: {} })).includes('file:///second'),
    );
    await until('roots audited', () => auditRecords(project.configDir).some((r) => r.metadata?.kind === 'roots' && r.status === 'allowed'));
  });

  test('a client without the capability gets a clear error naming it; no hang', async () => {
    const project = makeProject([everything], policy);
    const c = await open(project.folder);
    const text = resultText(await c.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'x', maxTokens: 5 } }));
    assert.match(text, /No client connected to Gatehouse supports sampling/);
  });

  test('sampling can be denied per server in policy.yaml', async () => {
    const project = makeProject([everything], { ...policy, client_requests: { everything: { sampling: 'deny' } } });
    const c = await open(project.folder, { sampling: {} }, (client) =>
      client.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'should not be asked' } })),
    );
    const text = resultText(await c.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'x', maxTokens: 5 } }));
    assert.match(text, /sampling.*denied/i);
    assert.doesNotMatch(text, /should not be asked/);
  });

  test('HALT refuses a child\'s sampling request made while its call runs; the client is not asked; audited as denied', async () => {
    const gate = path.join(tempDir('gatehouse-gate-'), 'go');
    const project = makeProject([catalog('alpha', { GATE_FILE: gate })], policy);
    let asked = 0;
    const c = await open(project.folder, { sampling: {} }, (client) =>
      client.setRequestHandler(CreateMessageRequestSchema, async () => (asked++, { model: 'm', role: 'assistant', content: { type: 'text', text: 'asked' } })),
    );
    await until('alpha listed', async () => (await c.listPrompts()).prompts.some((p) => p.name === 'alpha__sample-later'));
    // The call passes the chain before the freeze; the child asks after it.
    const running = c.getPrompt({ name: 'alpha__sample-later' });
    await until('the call in flight at the child', () => existsSync(`${gate}.started`));
    writeFileSync(path.join(project.configDir, 'HALT'), 'frozen for sampling\n');
    writeFileSync(gate, '');
    const text = JSON.stringify((await running).messages);
    rmSync(path.join(project.configDir, 'HALT'), { force: true });
    assert.match(text, /refused: .*sampling from alpha refused.*frozen for sampling/);
    assert.equal(asked, 0, 'the client was not asked');
    await until('the refusal audited', () => auditRecords(project.configDir).find((r) => r.metadata?.kind === 'sampling' && r.status === 'denied'));
  });

  test('logging: setLevel fans out, messages arrive with the server as logger; subscriptions deliver updates only to the subscriber', async () => {
    const project = makeProject([everything], policy);
    const gw = await startHttpGateway(project.folder);
    const logs: Array<{ logger?: string; level: string }> = [];
    const updatesA: string[] = [];
    const updatesB: string[] = [];
    const connect = async (setup: (c: Client) => void) => {
      const c = new Client({ name: 'n', version: '1' });
      setup(c);
      await c.connect(new StreamableHTTPClientTransport(new URL(gw.info.url), { requestInit: { headers: { Authorization: `Bearer ${gw.info.token}` } } }));
      clients.push(c);
      return c;
    };
    // Two sessions of one gateway.
    const a = await connect((c) => {
      c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
      c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updatesA.push(n.params.uri));
    });
    const b = await connect((c) => c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updatesB.push(n.params.uri)));
    await a.setLoggingLevel('debug');
    await a.callTool({ name: 'everything__toggle-simulated-logging', arguments: {} });
    await until('a relayed log message', () => logs.find((l) => l.logger === 'everything'));
    await a.callTool({ name: 'everything__toggle-simulated-logging', arguments: {} });

    const uri = 'demo://resource/static/document/features.md';
    await a.subscribeResource({ uri });
    await a.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} });
    await until('an update for the subscriber', () => updatesA.includes(uri), 20_000);
    await a.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} });
    assert.deepEqual(updatesB, [], 'the other session subscribed to nothing');
    await b.listPrompts();
  });

  test('a prompt list change is relayed to the client', async () => {
    const project = makeProject([catalog('alpha')], policy);
    let changed = 0;
    const c = await open(project.folder, {}, (client) => client.setNotificationHandler(PromptListChangedNotificationSchema, () => void changed++));
    assert.ok((await c.listPrompts()).prompts.some((p) => p.name === 'alpha__greet'));
    // A respawn empties and refills the catalog: both show up as list_changed.
    writeFileSync(path.join(project.configDir, 'registry.yaml'), readFileSync(path.join(project.configDir, 'registry.yaml'), 'utf8').replace('TAG: alpha', 'TAG: alpha2'));
    await until('prompts/list_changed', () => changed > 0, 20_000);
  });
});

describe('pagination', () => {
  test("every page of a server's prompts, resources and templates is listed, and each reads back", async () => {
    const project = makeProject([{ name: 'paged', fixture: 'paged.mjs' }], policy);
    const c = await open(project.folder);
    const prompts = await until('all pages of prompts', async () => {
      const names = (await c.listPrompts()).prompts.map((p) => p.name);
      return names.length === 3 ? names : undefined;
    });
    assert.deepEqual(prompts, ['paged__p0', 'paged__p1', 'paged__p2']);
    assert.deepEqual((await c.listResources()).resources.map((r) => r.uri), ['paged://r0', 'paged://r1', 'paged://r2']);
    assert.deepEqual((await c.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate), ['paged://t0/{id}', 'paged://t1/{id}', 'paged://t2/{id}']);
    assert.match(JSON.stringify(await c.getPrompt({ name: 'paged__p2' })), /prompt p2/);
    assert.match(JSON.stringify(await c.readResource({ uri: 'paged://r2' })), /read paged:\/\/r2/);
    assert.match(JSON.stringify(await c.readResource({ uri: 'paged://t1/9' })), /read paged:\/\/t1\/9/);
  });
});

describe('bad input from children', () => {
  test('garbage, a timeout and a death mid-request each fail with the server named; other servers carry on; a cancel reaches the child', async () => {
    const cancelFile = path.join(tempDir('gatehouse-cancel-'), 'cancelled');
    const project = makeProject(
      [
        { ...catalog('bad', { CANCEL_FILE: cancelFile }), timeouts: { call_ms: 1500 } },
        catalog('good'),
      ],
      policy,
    );
    const c = await open(project.folder);
    await until('both listed', async () => (await c.listPrompts()).prompts.filter((p) => p.name.endsWith('__greet')).length === 2);
    assert.match(await rejection(c.getPrompt({ name: 'bad__garbage' })), /bad failed prompt 'garbage'/);
    assert.match(await rejection(c.getPrompt({ name: 'bad__hang' })), /bad did not answer prompt 'hang' within 1.5 s/);
    const controller = new AbortController();
    const slow = c.getPrompt({ name: 'bad__slow' }, { signal: controller.signal }).catch(() => 'aborted');
    // Cancel once the child has the request: a fixed delay was a guess, and a cancel that reaches
    // the gateway before it forwarded the request has nothing to relay to the child.
    await until('the slow prompt running at the child', () => existsSync(cancelFile) && readFileSync(cancelFile, 'utf8').includes('started bad'));
    controller.abort();
    assert.equal(await slow, 'aborted');
    await until('the child saw the cancellation', () => (existsSync(cancelFile) ? readFileSync(cancelFile, 'utf8').includes('cancelled bad') : false), 10_000);
    assert.match(await rejection(c.getPrompt({ name: 'bad__die' })), /bad/);
    const greet = await c.getPrompt({ name: 'good__greet', arguments: { name: 'Bo' } });
    assert.match(JSON.stringify(greet), /Hello Bo from good/, 'the other server carries on');
    await until('bad respawned', async () => {
      try {
        return (await c.getPrompt({ name: 'bad__greet', arguments: { name: 'x' } })).messages.length > 0;
      } catch {
        return false;
      }
    }, 20_000);
  });
});

describe('over HTTP', () => {
  test('prompts, resources and sampling through gatehouse serve --http', async () => {
    const project = makeProject([everything, catalog('alpha')], policy);
    const gw = await startHttpGateway(project.folder);
    const c = await httpClient(gw.info);
    clients.push(c);
    assert.ok((await c.listPrompts()).prompts.some((p) => p.name === 'alpha__greet'));
    const read = await c.readResource({ uri: 'gatehouse://alpha/demo://resource/static/document/architecture.md' });
    assert.match(JSON.stringify(read), /architecture from alpha/);
    const got = await c.getPrompt({ name: 'everything__simple-prompt' });
    assert.ok(got.messages.length > 0);

    // Sampling over HTTP: the child's request reaches this client on its session's stream.
    const sampler = new Client({ name: 'http-sampler', version: '1' }, { capabilities: { sampling: {} } });
    sampler.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'sampled over http' } }));
    await sampler.connect(
      new StreamableHTTPClientTransport(new URL(gw.info.url), { requestInit: { headers: { Authorization: `Bearer ${gw.info.token}` } } }),
    );
    clients.push(sampler);
    const sampled = await sampler.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'p', maxTokens: 5 } });
    assert.match(resultText(sampled), /sampled over http/);
    const progress: number[] = [];
    await sampler.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 1, steps: 3 } }, undefined, {
      onprogress: (p) => void progress.push(p.progress),
    });
    assert.deepEqual(progress, [1, 2, 3].slice(0, Math.max(1, progress.length)), 'progress over HTTP (see the stdio test for the last step)');
  });
});

describe('over HTTP: a dropped request', () => {
  test('a POST whose connection closes before its answer cancels the request at the child', async () => {
    const cancelFile = path.join(tempDir('gatehouse-drop-'), 'cancelled');
    // A call timeout far beyond the deadline below: only the dropped connection can cancel it.
    const project = makeProject([{ ...catalog('bad', { CANCEL_FILE: cancelFile }), timeouts: { call_ms: 600_000 } }], policy);
    const gw = await startHttpGateway(project.folder);
    const transport = new StreamableHTTPClientTransport(new URL(gw.info.url), { requestInit: { headers: { Authorization: `Bearer ${gw.info.token}` } } });
    const c = new Client({ name: 'dropper', version: '1' });
    await c.connect(transport);
    clients.push(c);
    await until('bad listed', async () => (await c.listPrompts()).prompts.some((p) => p.name === 'bad__slow'));
    const lines = () => (existsSync(cancelFile) ? readFileSync(cancelFile, 'utf8') : '');
    // Raw fetch, so nothing sends notifications/cancelled: the connection just goes away.
    const drop = new AbortController();
    const post = fetch(gw.info.url, {
      method: 'POST',
      signal: drop.signal,
      headers: {
        Authorization: `Bearer ${gw.info.token}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'mcp-session-id': transport.sessionId ?? '',
        'mcp-protocol-version': transport.protocolVersion ?? '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'dropped-1', method: 'prompts/get', params: { name: 'bad__slow' } }),
    }).catch(() => 'dropped');
    await until('the slow prompt running at the child', () => lines().includes('started bad'), 30_000);
    drop.abort();
    assert.equal(await post, 'dropped');
    await until('the child saw the cancellation', () => lines().includes('cancelled bad'), 30_000);
    // The session carries on.
    assert.ok((await c.listPrompts()).prompts.length > 0);
  });
});

describe('over HTTP: requests to a client travel only on its event stream', () => {
  /** An HTTP client of the gateway whose fetch can refuse the event stream (GET) or say when it is open. */
  async function streamClient(gw: { info: { url: string; token: string } }, name: string, stream: boolean) {
    let open = false;
    const fetcher = async (url: string | URL, init?: RequestInit): Promise<Response> => {
      // No stream: as a client (or proxy) that never opens one; 405 is what the SDK takes for "none".
      if (init?.method === 'GET' && !stream) return new Response(null, { status: 405 });
      const res = await fetch(url, init);
      if (init?.method === 'GET' && res.ok) open = true;
      return res;
    };
    const c = new Client({ name, version: '1' }, { capabilities: { sampling: {}, elicitation: { form: {} } } });
    c.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: `${name} sampled` } }));
    c.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'decline' }));
    await c.connect(
      new StreamableHTTPClientTransport(new URL(gw.info.url), { fetch: fetcher, requestInit: { headers: { Authorization: `Bearer ${gw.info.token}` } } }),
    );
    clients.push(c);
    return { client: c, streamOpen: () => open };
  }

  // Without the fix the child's request was dropped by the transport and the call waited out the
  // child's own timeout (10 minutes for server-everything): the test's timeout catches that.
  test('without a stream, sampling and elicitation fail at once naming why; with one, they are delivered', { timeout: 120_000 }, async () => {
    const project = makeProject([everything], policy);
    const gw = await startHttpGateway(project.folder);
    const { client: blind } = await streamClient(gw, 'blind', false);
    const sampled = resultText(await blind.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'p', maxTokens: 5 } }));
    assert.match(sampled, /declared sampling but has no open event stream \(GET \/mcp\)/);
    const elicited = resultText(await blind.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} }));
    assert.match(elicited, /declared elicitation but has no open event stream/);
    await until('the refusal audited', () =>
      auditRecords(project.configDir).find((r) => r.metadata?.kind === 'sampling' && r.status === 'error' && /no open event stream/.test(String(r.error))),
    );

    const { client: seeing, streamOpen } = await streamClient(gw, 'seeing', true);
    await until('the event stream open', () => streamOpen());
    assert.match(resultText(await seeing.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'p', maxTokens: 5 } })), /seeing sampled/);
    assert.match(resultText(await seeing.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} })), /decline/i);
    // The blind client still gets its answer, not the other client's user.
    assert.match(resultText(await blind.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'p', maxTokens: 5 } })), /no open event stream/);
  });
});
