import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import { nullLogger } from '../../../extension/common/logger';
import type { Policy } from '../../../extension/config/policySchema';
import { ApprovalBroker, type ApprovalAnswer, type ApprovalRequest } from '../../../extension/gateway/approvals/approvalBroker';
import { approvalLayer } from '../../../extension/gateway/chain/approvalLayer';
import type { CallContext } from '../../../extension/gateway/chain/callContext';
import { compose, type Middleware } from '../../../extension/gateway/chain/chain';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { RequestChannel, UpstreamSession } from '../../../extension/gateway/routing/upstreamSessions';
import { until } from '../../helpers/poll';

function context(overrides: Partial<CallContext> = {}): CallContext {
  return { tool_name: 'delete_repo', server_name: 'github', full_name: 'github__delete_repo', arguments: { repo: 'x' }, session_id: 's', status: 'allowed', start_time: 0, metadata: {}, tier: 'destructive', ...overrides };
}

/** An upstream session whose client declared no elicitation (only the editor can be asked). */
const fakeSession = () => ({ server: { getClientCapabilities: () => ({}) } }) as never;

interface Asked {
  request: ApprovalRequest;
  signal: AbortSignal;
  answer: (a: ApprovalAnswer | undefined) => void;
}

/** The layer before a terminal that counts dispatches; the editor answers through `asked` unless `editor: false`. */
function setup(approval: Policy['approval'], options: { halted?: () => boolean; editor?: boolean } = {}) {
  const clock = new ManualClock();
  const broker = new ApprovalBroker({ halted: async () => options.halted?.() ?? false, clock, logger: nullLogger });
  const asked: Asked[] = [];
  let dispatched = 0;
  const terminal: Middleware = async (ctx) => {
    dispatched++;
    ctx.result = { content: [{ type: 'text', text: 'done' }] };
  };
  const run = compose([
    approvalLayer({ policy: () => ({ approval }), broker, redactArguments: async (args) => JSON.parse(JSON.stringify(args).replace(/ghp_\w+/g, '[REDACTED]')) }),
    terminal,
  ]);
  const approver = (request: ApprovalRequest, signal: AbortSignal) =>
    new Promise<ApprovalAnswer | undefined>((resolve) => asked.push({ request, signal, answer: resolve }));
  if (options.editor !== false) broker.setApprover(approver);
  return { clock, broker, asked, run, dispatched: () => dispatched };
}

describe('approvalLayer', () => {
  it('a call no approval rule matches passes without asking and without approval metadata', async () => {
    const t = setup({ tools: ['github__delete_*'] });
    const ctx = context({ tool_name: 'list_repos', full_name: 'github__list_repos', tier: 'read' });
    await t.run(ctx);
    assert.equal(ctx.status, 'allowed');
    assert.equal(t.dispatched(), 1);
    assert.equal(t.asked.length, 0);
    assert.equal(ctx.metadata.approval, undefined);
  });

  it('Allow once: the editor is asked with client, server, tool, tier and redacted arguments; the call runs once', async () => {
    const t = setup({ tools: ['github__delete_*'] });
    const ctx = context({ arguments: { repo: 'x', token: 'ghp_abcdefabcdefabcdefabcdefabcdefabcdef' }, upstream: { client_name: 'Claude Code' } });
    const done = t.run(ctx);
    await until('the approver is asked', () => t.asked.length === 1);
    const r = t.asked[0]!.request;
    assert.deepEqual([r.client, r.server, r.tool, r.full_name, r.tier], ['Claude Code', 'github', 'delete_repo', 'github__delete_repo', 'destructive']);
    assert.equal(r.arguments, '{"repo":"x","token":"[REDACTED]"}');
    assert.equal(t.broker.view.waiting.length, 1);
    assert.equal(t.dispatched(), 0, 'nothing is sent while it waits');
    t.clock.advance(5000);
    t.asked[0]!.answer('once');
    await done;
    assert.equal(ctx.status, 'allowed');
    assert.equal(t.dispatched(), 1);
    assert.deepEqual(ctx.metadata.approval, { decision: 'allowed', answered_by: 'editor', asked: 'editor', scope: 'once', wait_ms: 5000, matched: "tools 'github__delete_*'" });
    assert.equal(t.broker.view.waiting.length, 0);
    assert.equal(t.broker.view.recent[0]?.answered_by, 'editor');
  });

  it('Deny: never dispatched; reason approval_denied, saying how to change it', async () => {
    const t = setup({ tiers: ['destructive'] });
    const ctx = context();
    const done = t.run(ctx);
    await until('asked', () => t.asked.length === 1);
    t.asked[0]!.answer('deny');
    await done;
    assert.equal(t.dispatched(), 0);
    assert.equal(ctx.status, 'denied');
    assert.equal(ctx.reason_code, 'approval_denied');
    assert.match(ctx.error ?? '', /denied in the editor.*approval: in policy\.yaml \(it matched tiers destructive\)/);
  });

  it('Allow for this session: later calls of that tool from that session pass as a session grant; another session is asked', async () => {
    const t = setup({ tools: ['github__delete_*'] });
    const session = fakeSession();
    const first = context({ upstream: { session } });
    const done = t.run(first);
    await until('asked', () => t.asked.length === 1);
    t.asked[0]!.answer('session');
    await done;
    const second = context({ upstream: { session } });
    await t.run(second);
    assert.equal(second.status, 'allowed');
    assert.deepEqual(second.metadata.approval, { decision: 'allowed', answered_by: 'session_grant', scope: 'session', wait_ms: 0, matched: "tools 'github__delete_*'" });
    assert.equal(t.asked.length, 1);
    const other = context({ upstream: { session: fakeSession() } });
    const third = t.run(other);
    await until('the other session is asked', () => t.asked.length === 2);
    t.asked[1]!.answer('deny');
    await third;
    assert.equal(t.dispatched(), 2);
  });

  it('many wait at once, other calls pass meanwhile, and each is settled by its own answer', async () => {
    const t = setup({ tools: ['github__delete_*'] });
    const ctxs = [0, 1, 2].map((i) => context({ arguments: { i } }));
    const runs = ctxs.map((c) => t.run(c));
    await until('three asked', () => t.asked.length === 3);
    assert.equal(t.broker.view.waiting.length, 3);
    const free = context({ tool_name: 'list', full_name: 'github__list', tier: 'read' });
    await t.run(free);
    assert.equal(free.status, 'allowed', 'a call that needs no approval is not held up');
    t.asked[2]!.answer('once');
    t.asked[0]!.answer('deny');
    t.asked[1]!.answer('once');
    await Promise.all(runs);
    assert.deepEqual(ctxs.map((c) => c.status), ['denied', 'allowed', 'allowed']);
    assert.equal(t.dispatched(), 3);
  });

  it('no answer within timeout_s: denied as a timeout, the approver told to stop, a late answer ignored', async () => {
    const t = setup({ tools: ['github__delete_*'], timeout_s: 30 });
    const ctx = context();
    const done = t.run(ctx);
    await until('asked', () => t.asked.length === 1);
    t.clock.advance(30_000);
    await done;
    assert.equal(ctx.reason_code, 'approval_timeout');
    assert.match(ctx.error ?? '', /within 30 s.*approval\.timeout_s/);
    assert.equal(t.asked[0]!.signal.aborted, true);
    t.asked[0]!.answer('once');
    await new Promise((r) => setImmediate(r));
    assert.equal(t.dispatched(), 0);
    assert.equal((ctx.metadata.approval as { answered_by: string }).answered_by, 'timeout');
  });

  it('HALT cancels every waiting approval', async () => {
    let halted = false;
    const t = setup({ tools: ['github__delete_*'] }, { halted: () => halted });
    const ctxs = [context(), context()];
    const runs = ctxs.map((c) => t.run(c));
    await until('asked', () => t.asked.length === 2);
    halted = true;
    t.clock.advance(250);
    await Promise.all(runs);
    assert.deepEqual(ctxs.map((c) => c.reason_code), ['approval_halted', 'approval_halted']);
    assert.equal(t.dispatched(), 0);
  });

  it('a client that cancels or disconnects withdraws its waiting approval', async () => {
    const t = setup({ tools: ['github__delete_*'] });
    const controller = new AbortController();
    const ctx = context({ signal: controller.signal });
    const done = t.run(ctx);
    await until('asked', () => t.asked.length === 1);
    controller.abort();
    await done;
    assert.equal(ctx.reason_code, 'approval_withdrawn');
    assert.equal((ctx.metadata.approval as { answered_by: string }).answered_by, 'withdrawn');
    assert.equal(t.broker.view.waiting.length, 0);
  });

  it('no editor and no elicitation: denied at once, saying approval was required, no one could be asked, and how to change it', async () => {
    const t = setup({ tools: ['github__delete_*'] }, { editor: false });
    const ctx = context();
    await t.run(ctx);
    assert.equal(ctx.reason_code, 'approval_unavailable');
    assert.match(ctx.error ?? '', /requires approval, but no one could be asked.*approval: in policy\.yaml/);
    assert.equal((ctx.metadata.approval as { answered_by: string }).answered_by, 'no_approver');
  });
});

describe('ApprovalBroker with client elicitation', () => {
  const ask = { client: 'c', server: 'echo', tool: 'sleep', full_name: 'echo__sleep', tier: 'write' as const, arguments: '{}', timeout_s: 10 };

  it('accept allows; decline and cancel deny; a malformed answer or an error denies', async () => {
    const broker = new ApprovalBroker({ halted: async () => false, clock: new ManualClock(), logger: nullLogger });
    const decide = (answer: unknown) => broker.decide({ ...ask, elicit: async () => (answer instanceof Error ? Promise.reject(answer) : answer) });
    assert.equal((await decide({ action: 'accept' })).decision, 'allowed');
    assert.equal((await decide({ action: 'decline' })).decision, 'denied');
    assert.equal((await decide({ action: 'cancel' })).decision, 'denied');
    const malformed = await decide({ action: 'sure' });
    assert.deepEqual([malformed.decision, malformed.answered_by, malformed.detail], ['denied', 'client_elicitation', 'the client sent a malformed answer']);
    assert.equal((await decide(new Error('Method not found'))).decision, 'denied');
  });

  it('the message names server__tool; an answer after the timeout is a denial', async () => {
    const clock = new ManualClock();
    const broker = new ApprovalBroker({ halted: async () => false, clock, logger: nullLogger });
    let late: ((v: unknown) => void) | undefined;
    let message = '';
    const decided = broker.decide({ ...ask, elicit: (m) => new Promise((resolve) => ((message = m), (late = resolve))) });
    await until('elicited', () => late !== undefined);
    assert.match(message, /echo__sleep/);
    clock.advance(10_000);
    late!({ action: 'accept' });
    const outcome = await decided;
    assert.deepEqual([outcome.decision, outcome.answered_by], ['denied', 'timeout']);
  });
});

describe('approvalLayer: a client reachable only on its event stream (HTTP)', () => {
  /** A real SDK session whose client declares elicitation and accepts, behind a channel the test opens. */
  async function streamSession() {
    const server = new Server({ name: 'g', version: '1' }, { capabilities: {} });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: 'c', version: '1' }, { capabilities: { elicitation: { form: {} } } });
    const asked: Array<string | number | undefined> = [];
    client.setRequestHandler(ElicitRequestSchema, async (_req, extra) => (asked.push(extra.requestId), { action: 'accept' as const }));
    await client.connect(b);
    let stream: AbortController | undefined;
    let opening: (() => void) | undefined;
    const channel: RequestChannel = {
      current: () => stream?.signal,
      // As the listener's channel: waits (here: until the test opens it), undefined when none did.
      opened: (_ms, signal) =>
        new Promise((resolve) => {
          if (stream || signal.aborted) return resolve(stream?.signal);
          opening = () => resolve(stream?.signal);
          signal.addEventListener('abort', () => resolve(undefined), { once: true });
        }),
    };
    const session = { server, lastActive: 0, inFlight: new Map(), subscriptions: new Map(), channel } satisfies UpstreamSession;
    return {
      session,
      asked,
      open: () => ((stream = new AbortController()), opening?.()),
      noStream: () => opening?.(),
      opening: () => opening !== undefined,
      close: () => Promise.all([client.close(), server.close()]),
    };
  }

  /** A call under approval from a client that can elicit but has no event stream open: the layer waits for one. */
  async function waitingForStream() {
    const t = setup({ tools: ['github__delete_*'] }, { editor: false });
    const s = await streamSession();
    const ctx = context({ upstream: { client_name: 'c', session: s.session, request_id: 7 } });
    const done = t.run(ctx);
    await until('the layer waits for a stream', () => s.opening());
    return { t, s, ctx, done };
  }

  it('no stream opens within the wait: denied at once as approval_unavailable, the client never asked', async () => {
    const { t, s, ctx, done } = await waitingForStream();
    s.noStream();
    await done;
    assert.equal(ctx.reason_code, 'approval_unavailable');
    assert.match(ctx.error ?? '', /no event stream \(GET \/mcp\)/);
    assert.equal((ctx.metadata.approval as { answered_by: string }).answered_by, 'no_approver');
    assert.equal(t.broker.view.waiting.length, 0, 'nothing was left waiting for the timeout');
    assert.deepEqual(s.asked, []);
    assert.equal(t.dispatched(), 0);
    await s.close();
  });

  it('a stream that opens within the wait carries the elicitation; accept runs the call once', async () => {
    const { t, s, ctx, done } = await waitingForStream();
    s.open();
    await done;
    assert.equal(ctx.status, 'allowed');
    assert.equal((ctx.metadata.approval as { answered_by: string }).answered_by, 'client_elicitation');
    assert.equal(s.asked.length, 1);
    assert.equal(t.dispatched(), 1);
    await s.close();
  });
});
