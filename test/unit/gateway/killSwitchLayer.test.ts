import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import { AuditLog } from '../../../extension/gateway/audit/auditLog';
import type { AuditRecord } from '../../../extension/gateway/audit/auditRecord';
import { verifyAuditFile } from '../../../extension/gateway/audit/verifyAudit';
import { auditLayer } from '../../../extension/gateway/chain/auditLayer';
import type { CallContext } from '../../../extension/gateway/chain/callContext';
import { compose, type Middleware } from '../../../extension/gateway/chain/chain';
import { killSwitchLayer } from '../../../extension/gateway/chain/killSwitchLayer';
import { freeze, unfreeze } from '../../../extension/gateway/halt';
import { tempDir } from '../../helpers/fixtures';

function context(overrides: Partial<CallContext> = {}): CallContext {
  return {
    tool_name: 'ping',
    server_name: 'mock',
    full_name: 'mock__ping',
    arguments: {},
    session_id: 'sess',
    status: 'allowed',
    start_time: 0,
    metadata: {},
    ...overrides,
  };
}

describe('killSwitchLayer', () => {
  let dir: string;
  const clock = new ManualClock(Date.parse('2026-04-20T12:00:01.000Z'));
  let dispatched: number;
  const terminal: Middleware = async (ctx) => {
    dispatched++;
    ctx.result = { content: [{ type: 'text', text: 'pong' }] };
  };
  beforeEach(() => {
    dir = tempDir('gatehouse-kill-');
    dispatched = 0;
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('absent: the call goes through, metadata halt_decision "absent" and halt_at_invocation null', async () => {
    const ctx = context();
    await compose([killSwitchLayer({ dir, clock }), terminal])(ctx);
    assert.equal(ctx.status, 'allowed');
    assert.equal(dispatched, 1);
    assert.deepEqual(ctx.metadata, { halt_decision: 'absent', halt_at_invocation: null });
  });

  it('present: denied with reason_code halt, the reason, and how to resume; nothing dispatched', async () => {
    await fs.writeFile(path.join(dir, 'HALT'), 'incident (frozen at 2026-04-20T11:59:00.000Z)\n');
    const ctx = context();
    await compose([killSwitchLayer({ dir, clock }), terminal])(ctx);
    assert.equal(dispatched, 0);
    assert.equal(ctx.status, 'denied');
    assert.equal(ctx.reason_code, 'halt');
    assert.equal(
      ctx.error,
      'Kill switch active: incident (frozen at 2026-04-20T11:59:00.000Z). Run `gatehouse unfreeze` (or "Gatehouse: Unfreeze") to resume tool calls.',
    );
    assert.deepEqual(ctx.metadata, { halt_decision: 'present', halt_at_invocation: '2026-04-20T12:00:01.000Z' });
  });

  it('HALT as a directory, or an unreadable config dir, denies (fail closed)', async () => {
    await fs.mkdir(path.join(dir, 'HALT'));
    const dirCase = context();
    await compose([killSwitchLayer({ dir, clock }), terminal])(dirCase);
    assert.equal(dirCase.status, 'denied');
    assert.notEqual(dirCase.metadata.halt_decision, 'absent');

    const file = path.join(dir, 'plain-file');
    await fs.writeFile(file, '');
    const odd = context();
    await compose([killSwitchLayer({ dir: () => file, clock }), terminal])(odd);
    assert.equal(odd.status, 'denied');
    assert.equal(odd.reason_code, 'halt_check_failed');
    assert.match(odd.error!, /^Kill switch check failed: ENOTDIR \(/);
    assert.deepEqual(odd.metadata, { halt_decision: 'unknown', halt_at_invocation: '2026-04-20T12:00:01.000Z' });
    assert.equal(dispatched, 0);
  });

  it('is evaluated per call, never cached; HALT created mid-call does not cancel a call already past it', async () => {
    const chain = compose([killSwitchLayer({ dir, clock }), terminal]);
    const audit = { append: async () => ({}) as AuditRecord };
    const first = context();
    await chain(first);
    await freeze(dir, 'stop', audit, { clock });
    const second = context();
    await chain(second);
    await unfreeze(dir, audit);
    const third = context();
    await chain(third);
    assert.deepEqual([first.status, second.status, third.status], ['allowed', 'denied', 'allowed']);

    let release!: () => void;
    let arrived!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const pastSwitch = new Promise<void>((r) => (arrived = r));
    const slow: Middleware = async (_ctx, next) => {
      arrived();
      await gate;
      await next();
    };
    const inFlight = context();
    const running = compose([killSwitchLayer({ dir, clock }), slow, terminal])(inFlight);
    await pastSwitch;
    await freeze(dir, 'late', audit, { clock });
    release();
    await running;
    assert.equal(inFlight.status, 'allowed');
  });

  it('under audit, a HALT denial is recorded as in Appendix B (tier write fallback, metadata, error)', async () => {
    await fs.writeFile(path.join(dir, 'HALT'), 'incident (frozen at 2026-04-20T11:59:00.000Z)\n');
    const log = await AuditLog.open({ dir, sessionId: 'sess', clock });
    const ctx = context({ start_time: 100 });
    await compose([auditLayer(log, { autonomyLevel: () => 'L1', now: () => 102, awaitWrite: true }), killSwitchLayer({ dir, clock }), terminal])(ctx);
    await log.close();
    const [line] = (await fs.readFile(log.file, 'utf8')).trimEnd().split('\n');
    const record = JSON.parse(line!) as AuditRecord;
    const { hash, prev_hash, ...rest } = record;
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(prev_hash, '0'.repeat(64));
    assert.deepEqual(rest, {
      timestamp: '2026-04-20T12:00:01.000Z',
      session_id: 'sess',
      tool_name: 'ping',
      server_name: 'mock',
      tier: 'write',
      status: 'denied',
      autonomy_level: 'L1',
      duration_ms: 2,
      emission_source: 'proxy',
      error: 'Kill switch active: incident (frozen at 2026-04-20T11:59:00.000Z). Run `gatehouse unfreeze` (or "Gatehouse: Unfreeze") to resume tool calls.',
      metadata: { halt_decision: 'present', halt_at_invocation: '2026-04-20T12:00:01.000Z', reason_code: 'halt', argument_count: 0 },
    });
    assert.equal((await verifyAuditFile(log.file)).ok, true);
  });
});
