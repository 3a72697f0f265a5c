/**
 * Issue 13 item 3: secrets outside argument values — in object keys, tool names, denial texts,
 * metadata and log lines — are redacted before they leave the gateway or reach the disk.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AuditLog } from '../../../extension/gateway/audit/auditLog';
import { auditLayer } from '../../../extension/gateway/chain/auditLayer';
import { deny, type CallContext } from '../../../extension/gateway/chain/callContext';
import { compose, type Middleware } from '../../../extension/gateway/chain/chain';
import { redactArgsLayer } from '../../../extension/gateway/chain/redactArgsLayer';
import { redactResultLayer } from '../../../extension/gateway/chain/redactResultLayer';
import { redactingLogger } from '../../../extension/gateway/scanner/redactingLogger';
import { Scanner } from '../../../extension/gateway/scanner/scannerClient';
import { createSyncRedactor } from '../../../extension/gateway/scanner/syncRedactor';
import { tempDir } from '../../helpers/fixtures';

// Assembled at run time: no literal in this file looks like a credential.
const GHP = 'ghp_' + 'FAKE' + 'x1Y2z3'.repeat(6);
const GHO = 'gho_' + 'FAKE' + 'q9W8e7'.repeat(6);
const AWS = 'AKIA' + 'FAKE' + 'EXAMPLE12345';

function ctxFor(tool: string, args: Record<string, unknown>): CallContext {
  return { tool_name: tool, server_name: 'echo', full_name: `echo__${tool}`, arguments: args, session_id: 's', status: 'allowed', start_time: 0, metadata: {} };
}

function assertClean(text: string, where: string): void {
  for (const secret of [GHP, GHO, AWS]) assert.ok(!text.includes(secret), `${secret.slice(0, 4)}… reached ${where}: ${text.slice(0, 300)}`);
}

describe('secrets outside argument values', () => {
  let scanner: Scanner;
  before(() => (scanner = new Scanner({ matchTimeoutMs: 100 })));
  after(() => scanner.dispose());

  it('object keys are redacted like values, paths are spelled with the redacted key, no member is lost', async () => {
    const input = { [GHP]: true, nested: { [`token ${AWS}`]: 'v', plain: 'ok' }, [GHO]: 2, list: [{ [GHP]: 'x' }] };
    const r = await scanner.redact(input, { root: 'arguments' });
    const out = JSON.stringify(r.value);
    assertClean(out, 'the redacted value');
    assertClean(JSON.stringify(r.redactedFields), 'redacted_fields');
    assert.deepEqual(r.value, {
      '[REDACTED:GitHub Token]': true,
      nested: { 'token [REDACTED:AWS Access Key]': 'v', plain: 'ok' },
      '[REDACTED:GitHub Token] (2)': 2,
      list: [{ '[REDACTED:GitHub Token]': 'x' }],
    });
    assert.deepEqual(r.redactedFields, [
      'arguments["[REDACTED:GitHub Token]"]',
      'arguments.nested["token [REDACTED:AWS Access Key]"]',
      'arguments["[REDACTED:GitHub Token]"]',
      'arguments.list[0]["[REDACTED:GitHub Token]"]',
    ].filter((f, i, all) => all.indexOf(f) === i));
    assert.equal(Object.keys(input)[0], GHP, 'input untouched');
  });

  it('a `__proto__` key stays an own key of the copy', async () => {
    const input = JSON.parse(`{"__proto__": {"a": "${GHP}"}, "b": 1}`) as Record<string, unknown>;
    const r = await scanner.redact(input);
    const value = r.value as Record<string, unknown>;
    assert.ok(Object.prototype.hasOwnProperty.call(value, '__proto__'));
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(value['__proto__'], { a: '[REDACTED:GitHub Token]' });
  });

  it('a secret used as an argument key never reaches the tool', async () => {
    const seen: unknown[] = [];
    const ctx = ctxFor('write', { id: 'x', [GHP]: 'value', meta: { [AWS]: 1 } });
    await compose([redactArgsLayer(scanner), async (c) => void seen.push(c.arguments)])(ctx);
    assert.equal(ctx.status, 'allowed');
    assertClean(JSON.stringify(seen), 'the tool');
    assertClean(JSON.stringify(ctx.metadata), 'the metadata');
    assert.deepEqual(ctx.metadata.redacted_fields, ['arguments["[REDACTED:GitHub Token]"]', 'arguments.meta["[REDACTED:AWS Access Key]"]']);
  });

  it('a tool name that holds a secret is refused before the server, and only its redacted form is kept', async () => {
    let reached = false;
    const ctx = ctxFor(GHP, { text: 'hi' });
    await compose([redactArgsLayer(scanner), async () => void (reached = true)])(ctx);
    assert.equal(reached, false, 'the server was not called');
    assert.equal(ctx.status, 'denied');
    assert.equal(ctx.reason_code, 'secret_in_tool_name');
    assert.equal(ctx.tool_name, '[REDACTED:GitHub Token]');
    assert.equal(ctx.full_name, 'echo__[REDACTED:GitHub Token]');
    assertClean(JSON.stringify(ctx), 'the context');
    assert.deepEqual(ctx.metadata.redacted_fields, ['tool_name']);
  });

  it('the audit record redacts the tool name, denial texts of outer layers, and metadata strings and keys', async () => {
    const dir = tempDir('gatehouse-secretplaces-');
    const log = await AuditLog.open({ dir, sessionId: 's' });
    try {
      // An outer layer (as HALT, policy or blocked paths do) denies before any redaction layer
      // ran, echoing the name and an argument key, and names the key in its metadata.
      const outer: Middleware = async (ctx) => {
        ctx.metadata.blocked_path = { argument: `arguments.${GHO}`, pattern: '.env' };
        ctx.metadata[`seen ${AWS}`] = true;
        deny(ctx, 'blocked_path', `Argument "${GHO}" references blocked path ".env". Tool: ${ctx.full_name}`);
      };
      const audit = auditLayer(log, {
        autonomyLevel: () => 'L1',
        awaitWrite: true,
        redactError: async (t) => (await scanner.redactText(t)).value,
        redactInline: createSyncRedactor(),
      });
      const ctx = ctxFor(GHP, {});
      await compose([audit, outer])(ctx);
      await log.flush();
      const text = await fs.readFile(log.file, 'utf8');
      assertClean(text, 'audit.jsonl');
      const record = JSON.parse(text.trim().split('\n').pop()!) as Record<string, unknown>;
      assert.equal(record.tool_name, '[REDACTED:GitHub Token]');
      assert.match(record.error as string, /Argument "\[REDACTED:GitHub Token\]" references blocked path/);
      assertClean(ctx.error ?? '', 'the error the client is sent');
      assert.deepEqual((record.metadata as Record<string, unknown>).blocked_path, { argument: 'arguments.[REDACTED:GitHub Token]', pattern: '.env' });
    } finally {
      await log.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('result keys are redacted and the MCP structure stays intact', async () => {
    const result: CallToolResult = {
      content: [{ type: 'text', text: 'ok' }],
      structuredContent: { [GHP]: { token: AWS } },
    };
    const ctx = ctxFor('read', {});
    await compose([redactResultLayer(scanner), async (c) => void (c.result = result)])(ctx);
    assertClean(JSON.stringify(ctx.result), 'the client');
    assert.deepEqual(ctx.result, { content: [{ type: 'text', text: 'ok' }], structuredContent: { '[REDACTED:GitHub Token]': { token: '[REDACTED:AWS Access Key]' } } });
  });

  it('every log line of the gateway passes the redactor', () => {
    const lines: string[] = [];
    const sink = { trace: (m: string) => lines.push(m), debug: (m: string) => lines.push(m), info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
    const logger = redactingLogger(sink, createSyncRedactor());
    logger.warn(`echo__${GHP}: result redaction timed out`);
    logger.error(`child said ${AWS}`);
    logger.debug(`key ${GHO}`);
    assert.equal(lines.length, 3);
    assertClean(lines.join('\n'), 'a log line');
    const broken = redactingLogger(sink, () => {
      throw new Error('boom');
    });
    broken.info(`x ${GHP}`);
    assert.equal(lines.at(-1), '[log line withheld: redaction failed]');
  });
});
