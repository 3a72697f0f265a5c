import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AUDIT_BACKLOG_LIMIT, AuditLog, AuditRecordError, type AuditFailure } from '../../../extension/gateway/audit/auditLog';
import type { AuditInput, AuditRecord } from '../../../extension/gateway/audit/auditRecord';
import { verifyAuditFile } from '../../../extension/gateway/audit/verifyAudit';
import { AUDIT_ERROR_MAX_CHARS, auditLayer, auditRefusal, type AuditLayerOptions } from '../../../extension/gateway/chain/auditLayer';
import { deny, type CallContext } from '../../../extension/gateway/chain/callContext';
import { compose, type Middleware } from '../../../extension/gateway/chain/chain';
import { tempDir } from '../../helpers/fixtures';

function context(overrides: Partial<CallContext> = {}): CallContext {
  return {
    tool_name: 'write_file',
    server_name: 'fs',
    full_name: 'fs__write_file',
    arguments: { path: '/tmp/x', content: 'sk-ant-SECRETSECRETSECRETSECRETSECRETSECRET' },
    session_id: 'sess',
    status: 'allowed',
    start_time: 1000,
    metadata: {},
    ...overrides,
  };
}

const ok: Middleware = async (ctx) => {
  ctx.result = { content: [{ type: 'text', text: 'done' }] };
};

/** An audit stand-in that records inputs; `gate` holds appends until released. */
function fakeAudit(behaviour: (input: AuditInput, n: number) => Promise<AuditRecord> = async () => ({}) as AuditRecord) {
  const inputs: AuditInput[] = [];
  return {
    inputs,
    append(input: AuditInput): Promise<AuditRecord> {
      inputs.push(input);
      return behaviour(input, inputs.length);
    },
  };
}

describe('auditLayer', () => {
  let dir: string;
  let log: AuditLog;
  let failures: AuditFailure[];
  const options: AuditLayerOptions = { autonomyLevel: () => 'L2', now: () => 1042.4, awaitWrite: true };

  beforeEach(async () => {
    dir = tempDir('gatehouse-auditlayer-');
    log = await AuditLog.open({ dir, sessionId: 'sess' });
    failures = [];
    log.onDidFail((f) => failures.push(f));
  });
  afterEach(async () => {
    await log.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function records(): Promise<AuditRecord[]> {
    await log.flush();
    const text = await fs.readFile(log.file, 'utf8');
    return text.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
  }

  it('records an allowed call once, after it, without its arguments (values or keys)', async () => {
    const tierLayer: Middleware = async (ctx, next) => {
      ctx.tier = 'write';
      ctx.metadata.autonomy_level = 'L1';
      await next();
    };
    const ctx = context();
    await compose([auditLayer(log, options), tierLayer, ok])(ctx);
    const [record] = await records();
    assert.equal(record!.status, 'allowed');
    assert.equal(record!.tool_name, 'write_file');
    assert.equal(record!.server_name, 'fs');
    assert.equal(record!.tier, 'write');
    assert.equal(record!.autonomy_level, 'L1', 'the policy layer’s level wins over the fallback');
    assert.equal(record!.duration_ms, 42);
    assert.equal(record!.emission_source, 'proxy');
    assert.equal(record!.error, undefined);
    assert.deepEqual(record!.metadata, { argument_count: 2 });
    const text = await fs.readFile(log.file, 'utf8');
    assert.ok(!text.includes('SECRET') && !text.includes('/tmp/x') && !text.includes('"content"'), text);
  });

  it('records a denial by an inner layer with its reason code, error, metadata and the write-tier fallback', async () => {
    const breaker: Middleware = async (ctx) => {
      ctx.metadata.circuit_breaker = { state: 'open', serverName: 'fs', retryAt: '2026-04-20T12:05:30.000Z' };
      deny(ctx, 'circuit_open', "Circuit breaker open for 'fs'");
    };
    const ctx = context();
    await compose([auditLayer(log, options), breaker, ok])(ctx);
    const [record] = await records();
    assert.equal(record!.status, 'denied');
    assert.equal(record!.tier, 'write');
    assert.equal(record!.autonomy_level, 'L2', 'policy never ran: the configured level');
    assert.equal(record!.error, "Circuit breaker open for 'fs'");
    assert.deepEqual(record!.metadata, {
      circuit_breaker: { state: 'open', serverName: 'fs', retryAt: '2026-04-20T12:05:30.000Z' },
      reason_code: 'circuit_open',
      argument_count: 2,
    });
  });

  it('records the error text exactly as inner layers left it (already redacted), capped at 4096 characters', async () => {
    const long = `${'e'.repeat(AUDIT_ERROR_MAX_CHARS - 1)}😀tail`;
    const failing: Middleware = async (ctx) => {
      ctx.status = 'error';
      ctx.reason_code = 'request_failed';
      ctx.error = long;
    };
    await compose([auditLayer(log, options), failing])(context());
    const [record] = await records();
    assert.equal(record!.status, 'error');
    // The cut does not split the emoji's surrogate pair.
    assert.equal(record!.error, `${'e'.repeat(AUDIT_ERROR_MAX_CHARS - 1)}…[truncated]`);
  });

  it('an exception from an inner layer becomes status error, is recorded (redacted), and the context agrees', async () => {
    const broken: Middleware = async () => {
      throw new Error('bad token sk-ant-XYZ');
    };
    const ctx = context();
    await compose([auditLayer(log, { ...options, redactError: (t) => t.replace(/sk-ant-\w+/g, '[REDACTED]') }), broken])(ctx);
    assert.equal(ctx.status, 'error');
    assert.equal(ctx.reason_code, 'internal_error');
    assert.equal(ctx.error, 'Gatehouse could not complete the call: bad token [REDACTED]');
    const [record] = await records();
    assert.equal(record!.status, 'error');
    assert.equal(record!.error, ctx.error);
    assert.equal((record!.metadata as { reason_code: string }).reason_code, 'internal_error');
  });

  it('lifts the redacted field paths to redacted_fields and keeps metadata JSON-clean', async () => {
    const layer: Middleware = async (ctx, next) => {
      ctx.metadata.redacted_fields = ['arguments.content', 'arguments.content', 'arguments.headers.authorization'];
      ctx.metadata.redacted_patterns = ['Anthropic API Key'];
      ctx.metadata.when = new Date('2026-04-20T12:00:00.000Z');
      ctx.metadata.big = 10n;
      ctx.metadata.nothing = undefined;
      ctx.metadata.cut = 'half \ud83d';
      await next();
    };
    await compose([auditLayer(log, options), layer, ok])(context());
    const [record] = await records();
    assert.deepEqual(record!.redacted_fields, ['arguments.content', 'arguments.headers.authorization']);
    assert.deepEqual(record!.metadata, {
      redacted_patterns: ['Anthropic API Key'],
      when: '2026-04-20T12:00:00.000Z',
      cut: 'half \ufffd',
      audit_dropped_keys: ['big'],
      argument_count: 2,
    });
    assert.equal(failures.length, 0);
  });

  it('records primitive metadata exactly as the JSON round trip would (numbers, lone surrogates, redaction, __proto__), deferred or not', async () => {
    const secret = 'ghp_' + 'A'.repeat(36);
    const layer: Middleware = async (ctx, next) => {
      Object.assign(ctx.metadata, { nan: NaN, inf: -Infinity, negZero: -0, n: 3.5, yes: true, none: null, cut: '\udc00 tail', token: `key ${secret}` });
      ctx.metadata[`k ${secret}`] = 'v';
      Object.defineProperty(ctx.metadata, '__proto__', { value: 'own', enumerable: true, writable: true, configurable: true });
      await next();
    };
    const redactInline = (t: string): string => t.replaceAll(secret, '[REDACTED]');
    const expected = {
      nan: null,
      inf: null,
      negZero: 0,
      n: 3.5,
      yes: true,
      none: null,
      cut: '\ufffd tail',
      token: 'key [REDACTED]',
      'k [REDACTED]': 'v',
      argument_count: 2,
    };
    const check = (metadata: Record<string, unknown> | undefined): void => {
      assert.ok(metadata);
      assert.equal(Object.getPrototypeOf(metadata), Object.prototype);
      assert.equal(Object.getOwnPropertyDescriptor(metadata, '__proto__')?.value, 'own');
      assert.ok(Object.is(metadata.negZero, 0));
      const { ['__proto__']: _own, ...rest } = metadata;
      assert.deepEqual({ ...rest }, expected);
    };
    const direct = fakeAudit();
    await compose([auditLayer(direct, { autonomyLevel: () => 'L1', redactInline, awaitWrite: true }), layer, ok])(context());
    check(direct.inputs[0]?.metadata);
    let build: (() => AuditInput) | undefined;
    const deferring = { ...fakeAudit(), appendLater: (b: () => AuditInput) => ((build = b), Promise.resolve({} as AuditRecord)) };
    await compose([auditLayer(deferring, { autonomyLevel: () => 'L1', redactInline }), layer, ok])(context());
    check(build?.().metadata);
  });

  it('an unknown autonomy level is recorded as unknown, a throwing getter too', async () => {
    await compose([auditLayer(log, { ...options, autonomyLevel: () => 'L9' }), ok])(context());
    await compose([
      auditLayer(log, {
        ...options,
        autonomyLevel: () => {
          throw new Error('no policy');
        },
      }),
      ok,
    ])(context());
    assert.deepEqual((await records()).map((r) => r.autonomy_level), ['unknown', 'unknown']);
  });

  it('does not make the call wait for the write, and keeps completion order', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const audit = fakeAudit(async () => {
      await held;
      return {} as AuditRecord;
    });
    const chain = compose([auditLayer(audit, { autonomyLevel: () => 'L1' }), ok]);
    await chain(context({ tool_name: 'first' }));
    await chain(context({ tool_name: 'second' }));
    // Both calls returned while their appends are still pending.
    assert.deepEqual(audit.inputs.map((i) => i.tool_name), ['first', 'second']);
    release();
  });

  it('with real group commit, many concurrent calls each get one record and the file verifies', async () => {
    const chain = compose([auditLayer(log, { autonomyLevel: () => 'L1' }), ok]);
    await Promise.all(Array.from({ length: 200 }, (_, i) => chain(context({ tool_name: `t${i}` }))));
    const all = await records();
    assert.equal(all.length, 200);
    assert.equal(new Set(all.map((r) => r.tool_name)).size, 200);
    assert.ok(log.stats.writes < 200);
    assert.equal((await verifyAuditFile(log.file)).ok, true);
  });

  it('with a log that defers, the call returns before its record is built; records follow call order', async () => {
    let now = 1000;
    const chain = compose([auditLayer(log, { autonomyLevel: () => 'L1', now: () => now }), ok]);
    const first = context({ tool_name: 'first', start_time: 990 });
    await chain(first);
    now = 2000;
    await chain(context({ tool_name: 'second', start_time: 1990 }));
    now = 5000; // built later, but stamped with the clock of each call's end
    const all = await records();
    assert.deepEqual(
      all.map((r) => [r.tool_name, r.duration_ms]),
      [
        ['first', 10],
        ['second', 10],
      ],
      'in call order, each with the duration measured when its call ended',
    );
    assert.equal((await verifyAuditFile(log.file)).ok, true);
  });

  it('a deferred record is built after the call returns, and one refused as a record is retried without its metadata', async () => {
    const audit = fakeAudit();
    let build: (() => AuditInput) | undefined;
    let refuse!: (err: Error) => void;
    const deferring = {
      ...audit,
      appendLater(b: () => AuditInput): Promise<AuditRecord> {
        build = b;
        return new Promise((_resolve, reject) => (refuse = reject));
      },
    };
    await compose([auditLayer(deferring, { autonomyLevel: () => 'L1' }), ok])(context());
    assert.ok(build, 'queued as a deferred record');
    assert.equal(audit.inputs.length, 0, 'nothing appended in the turn of the call');
    assert.equal(build().tool_name, 'write_file');
    refuse(new AuditRecordError('nope'));
    await new Promise((r) => setImmediate(r));
    assert.equal(audit.inputs.length, 1);
    assert.deepEqual(audit.inputs[0]!.metadata, { audit_metadata_dropped: 'nope' });
    assert.equal(audit.inputs[0]!.tool_name, 'write_file');
  });

  it('a log far behind makes the call wait for its own record; one keeping up does not', async () => {
    let release!: () => void;
    const held = new Promise<AuditRecord>((resolve) => (release = () => resolve({} as AuditRecord)));
    const behind = { ...fakeAudit(() => held), backlog: AUDIT_BACKLOG_LIMIT + 1 };
    let returned = false;
    const call = compose([auditLayer(behind, { autonomyLevel: () => 'L1' }), ok])(context()).then(() => (returned = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(behind.inputs.length, 1, 'the record was appended at once');
    assert.equal(returned, false, 'the call waits while its record is unwritten');
    release();
    await call;
    const keeping = { ...fakeAudit(() => new Promise<AuditRecord>(() => undefined)), backlog: AUDIT_BACKLOG_LIMIT };
    await compose([auditLayer(keeping, { autonomyLevel: () => 'L1' }), ok])(context());
    assert.equal(keeping.inputs.length, 1);
  });

  it('an audit write failure never fails the call (and causes no unhandled rejection)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const audit = fakeAudit(async () => Promise.reject(new Error('EIO')));
      const ctx = context();
      await compose([auditLayer(audit, { autonomyLevel: () => 'L1' }), ok])(ctx);
      assert.equal(ctx.status, 'allowed');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a record refused as unserialisable is retried once without its metadata', async () => {
    const audit = fakeAudit(async (_input, n) => (n === 1 ? Promise.reject(new AuditRecordError('nope')) : ({}) as AuditRecord));
    await compose([auditLayer(audit, { autonomyLevel: () => 'L1', awaitWrite: true }), ok])(context());
    assert.equal(audit.inputs.length, 2);
    assert.deepEqual(audit.inputs[1]!.metadata, { audit_metadata_dropped: 'nope' });
    assert.equal(audit.inputs[1]!.tool_name, 'write_file');
  });

  it('auditRefusal records calls refused before the chain (unknown server), as proxy records', async () => {
    const ctx = context({ tool_name: 'x', server_name: 'ghost', full_name: 'ghost__x', arguments: {} });
    ctx.status = 'denied';
    ctx.reason_code = 'unknown_server';
    ctx.error = "Unknown server 'ghost' in 'ghost__x'. Servers: fs.";
    const record = await auditRefusal(log, ctx, options);
    assert.equal(record?.status, 'denied');
    assert.equal(record?.server_name, 'ghost');
    assert.equal(record?.emission_source, 'proxy');
    assert.equal(record?.error, "Unknown server 'ghost' in 'ghost__x'. Servers: fs.");
    assert.deepEqual(record?.metadata, { reason_code: 'unknown_server', argument_count: 0 });
    const failing = fakeAudit(async () => Promise.reject(new Error('EIO')));
    assert.equal(await auditRefusal(failing, ctx, options), undefined, 'never rejects');
  });
});
