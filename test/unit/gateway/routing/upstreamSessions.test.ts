import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CreateMessageRequestSchema, ElicitationCompleteNotificationSchema, ElicitRequestSchema, type ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { nullLogger } from '../../../../extension/common/logger';
import { compose, forKinds } from '../../../../extension/gateway/chain/chain';
import type { CallContext } from '../../../../extension/gateway/chain/callContext';
import { UpstreamSessions, type RequestChannel } from '../../../../extension/gateway/routing/upstreamSessions';

async function session(sessions: UpstreamSessions, name: string, capabilities: ClientCapabilities) {
  const server = new Server({ name: 'g', version: '1' }, { capabilities: {} });
  const s = sessions.add(server);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name, version: '1' }, { capabilities });
  if (capabilities.sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: name, role: 'assistant', content: { type: 'text', text: name } }));
  }
  await client.connect(b);
  return { s, server, client };
}

const sampling = { method: 'sampling/createMessage', params: { messages: [], maxTokens: 1 } };

describe('UpstreamSessions: which session answers a child', () => {
  test('the session with a call in flight on that server (the latest), else the most recent that declared the capability', async () => {
    const sessions = new UpstreamSessions({ logger: nullLogger });
    const a = await session(sessions, 'a', { sampling: {} });
    const b = await session(sessions, 'b', { sampling: {} });
    const c = await session(sessions, 'c', {});
    const endA = sessions.begin(a.s, 'srv');
    sessions.touch(b.s);
    assert.equal(sessions.pick('srv', 'sampling'), a.s, 'in flight on srv wins over more recent activity');
    assert.equal(sessions.pick('other', 'sampling'), b.s, 'no call there: the most recently active');
    const endB = sessions.begin(b.s, 'srv');
    assert.equal(sessions.pick('srv', 'sampling'), b.s, 'the latest call in flight');
    endB();
    endA();
    sessions.touch(c.s);
    assert.equal(sessions.pick('srv', 'sampling'), b.s, 'c did not declare sampling');
    assert.equal((await sessions.request('srv', sampling, new AbortController().signal)).model, 'b');
    const endC = sessions.begin(c.s, 'srv');
    assert.equal(sessions.pick('srv', 'sampling'), undefined, "the caller's client lacks sampling: no other client is asked");
    endC();
  });

  test('no session able: an error naming the capability; a session that goes away mid-request: an error, not a hang', async () => {
    const sessions = new UpstreamSessions({ logger: nullLogger });
    await assert.rejects(sessions.request('srv', sampling, new AbortController().signal), /No client connected to Gatehouse supports sampling .*no client is connected/);
    const server = new Server({ name: 'g', version: '1' }, { capabilities: {} });
    sessions.add(server);
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: 'slow', version: '1' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, () => new Promise(() => undefined));
    await client.connect(b);
    const pending = sessions.request('srv', sampling, new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    await client.close();
    await assert.rejects(pending, /disconnected before answering/);
  });
});

describe('UpstreamSessions: fallbacks and refusals', () => {
  test('roots fall back to the given folders when no client can answer; a refusal from admit reaches the child as an error', async () => {
    const events: string[] = [];
    const sessions = new UpstreamSessions({
      logger: nullLogger,
      fallbackRoots: () => [{ uri: 'file:///work', name: 'work' }],
      admit: (server, method) => (method === 'sampling/createMessage' ? `sampling from ${server} is denied` : undefined),
      onServerRequest: (e) => void events.push(`${e.method}:${e.status}`),
    });
    assert.deepEqual(await sessions.request('srv', { method: 'roots/list' }, new AbortController().signal), { roots: [{ uri: 'file:///work', name: 'work' }] });
    await assert.rejects(sessions.request('srv', sampling, new AbortController().signal), /sampling from srv is denied/);
    assert.deepEqual(events, ['roots/list:allowed', 'sampling/createMessage:denied']);
  });
});

describe('UpstreamSessions: URL elicitation', () => {
  test('notifications/elicitation/complete goes only to the session that was asked to open the URL', async () => {
    const sessions = new UpstreamSessions({ logger: nullLogger });
    const completed: string[] = [];
    const make = async (name: string) => {
      const server = new Server({ name: 'g', version: '1' }, { capabilities: {} });
      const s = sessions.add(server);
      const [a, b] = InMemoryTransport.createLinkedPair();
      await server.connect(a);
      const client = new Client({ name, version: '1' }, { capabilities: { elicitation: { url: {} } } });
      client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept' }));
      client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => void completed.push(`${name}:${n.params.elicitationId}`));
      await client.connect(b);
      return s;
    };
    const asked = await make('asked');
    await make('other');
    const end = sessions.begin(asked, 'srv');
    const url = { method: 'elicitation/create', params: { mode: 'url', message: 'open it', url: 'https://example.com', elicitationId: 'e1' } };
    assert.equal((await sessions.request('srv', url, new AbortController().signal)).action, 'accept');
    end();
    sessions.notify('srv', { method: 'notifications/elicitation/complete', params: { elicitationId: 'e1' } });
    for (let i = 0; i < 50 && completed.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(completed, ['asked:e1']);
  });
});

describe('UpstreamSessions: clients reachable only on a stream (HTTP)', () => {
  /** A channel as the HTTP listener gives one: open while `stream` holds a controller. */
  function channel() {
    const state: { stream?: AbortController } = {};
    const c: RequestChannel = {
      current: () => state.stream?.signal,
      opened: async () => state.stream?.signal,
    };
    return { c, open: () => (state.stream = new AbortController()), close: () => (state.stream?.abort(), (state.stream = undefined)) };
  }

  test('no stream: an error naming it, at once; outside a call a client with a stream is preferred; a stream closed mid-request ends it', async () => {
    const sessions = new UpstreamSessions({ logger: nullLogger, streamWaitMs: 0 });
    const a = await session(sessions, 'a', { sampling: {} });
    const b = await session(sessions, 'b', { sampling: {} });
    const ca = channel();
    const cb = channel();
    a.s.channel = ca.c;
    b.s.channel = cb.c;
    cb.open();
    sessions.touch(a.s);
    assert.equal(sessions.pick('srv', 'sampling'), b.s, 'a is more recent but cannot be reached');
    const end = sessions.begin(a.s, 'srv');
    await assert.rejects(sessions.request('srv', sampling, new AbortController().signal), /declared sampling but has no open event stream/);
    ca.open();
    assert.equal((await sessions.request('srv', sampling, new AbortController().signal)).model, 'a');
    end();
    b.client.setRequestHandler(CreateMessageRequestSchema, () => new Promise(() => undefined));
    ca.close();
    const pending = sessions.request('other', sampling, new AbortController().signal);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    cb.close();
    await assert.rejects(pending, /closed its event stream before answering/);
  });
});

describe('compose: layers per kind', () => {
  test('a layer marked for tools does not run for prompts; unmarked layers run for every kind', async () => {
    const ran: string[] = [];
    const run = compose([
      async (ctx, next) => {
        ran.push(`all:${ctx.kind ?? 'tool'}`);
        await next();
      },
      forKinds(['tool'], async (ctx, next) => {
        ran.push(`tool-only:${ctx.kind ?? 'tool'}`);
        await next();
      }),
    ]);
    const ctx = (kind?: CallContext['kind']): CallContext => ({ kind, tool_name: 't', server_name: 's', full_name: 's__t', arguments: {}, session_id: 'x', status: 'allowed', start_time: 0, metadata: {} });
    await run(ctx());
    await run(ctx('prompt'));
    assert.deepEqual(ran, ['all:tool', 'tool-only:tool', 'all:prompt']);
  });
});
