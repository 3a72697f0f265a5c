import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { GENESIS_HASH, hashRecordBody } from '../../../extension/gateway/audit/auditRecord';
import { canonicalJson } from '../../../extension/gateway/audit/canonicalJson';
import { auditLogAttributes } from '../../../extension/telemetry/auditExport';
import { verifyAgainst } from '../../../extension/telemetry/verifyAgainst';
import type { AuditRecord } from '../../../extension/gateway/audit/auditRecord';

/** A chain of records as the writer makes them. */
function chain(n: number, status: (i: number) => AuditRecord['status'] = () => 'allowed'): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const body = {
      timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      session_id: 's',
      tool_name: `t${i}`,
      server_name: 'srv',
      tier: 'read' as const,
      status: status(i),
      autonomy_level: 'L1' as const,
      duration_ms: i * 3,
      emission_source: 'proxy' as const,
      prev_hash: prev,
      metadata: { argument_count: i, nested: { ok: true } },
      redacted_fields: i === 1 ? ['arguments.token'] : undefined,
    };
    const clean = JSON.parse(JSON.stringify(body)) as Omit<AuditRecord, 'hash'>;
    const record = { ...clean, hash: hashRecordBody(clean as unknown as Record<string, unknown>) } as AuditRecord;
    out.push(record);
    prev = record.hash;
  }
  return out;
}

/** OTLP/JSON as the Collector's file exporter writes it (ints as strings). */
function otlpLine(records: AuditRecord[]): string {
  const logRecords = records.map((r) => ({
    attributes: Object.entries(auditLogAttributes(r)).map(([key, v]) => ({
      key,
      value: typeof v === 'number' ? (Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }) : typeof v === 'boolean' ? { boolValue: v } : { stringValue: String(v) },
    })),
  }));
  return JSON.stringify({ resourceLogs: [{ scopeLogs: [{ scope: { name: 'gatehouse.audit' }, logRecords }] }] });
}

function project(records: AuditRecord[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-against-'));
  writeFileSync(path.join(dir, 'audit.jsonl'), records.map((r) => `${canonicalJson(r)}\n`).join(''));
  return dir;
}

describe('verifyAgainst (audit log vs its exported copy)', () => {
  test('a copy of the same chain matches, in OTLP/JSON or as audit lines', async () => {
    const records = chain(4);
    const dir = project(records);
    const otlp = path.join(dir, 'copy.otlp.jsonl');
    writeFileSync(otlp, `${otlpLine(records.slice(0, 2))}\n${otlpLine(records.slice(2))}\n`);
    assert.deepEqual(await verifyAgainst(dir, otlp), { ok: true, exported: 4, matched: 4, missing: [], damaged: [] });
    const lines = path.join(dir, 'copy.jsonl');
    writeFileSync(lines, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    assert.equal((await verifyAgainst(dir, lines)).matched, 4);
  });

  test('a re-hashed local rewrite: the edited record and those after it are reported', async () => {
    const original = chain(4);
    const rewritten = chain(4, (i) => (i === 1 ? 'denied' : 'allowed'));
    const dir = project(rewritten);
    const copy = path.join(dir, 'copy.jsonl');
    writeFileSync(copy, `${otlpLine(original)}\n`);
    const result = await verifyAgainst(dir, copy);
    assert.equal(result.ok, false);
    assert.equal(result.matched, 1);
    assert.deepEqual(
      result.missing.map((m) => [m.tool_name, m.replaced_by]),
      // Only the edited record still shares its predecessor with the local chain.
      [
        ['t1', rewritten[1]!.hash],
        ['t2', undefined],
        ['t3', undefined],
      ],
    );
  });

  test('a removed tail is missing; a forged copy is damaged; an empty copy is not ok', async () => {
    const records = chain(3);
    const dir = project(records.slice(0, 2));
    const copy = path.join(dir, 'copy.jsonl');
    writeFileSync(copy, `${otlpLine(records)}\n`);
    const removed = await verifyAgainst(dir, copy);
    assert.deepEqual(removed.missing.map((m) => [m.tool_name, m.replaced_by]), [['t2', undefined]]);
    const forged = { ...records[0]!, status: 'denied' as const };
    writeFileSync(copy, `${JSON.stringify(forged)}\n{torn`);
    const damaged = await verifyAgainst(dir, copy);
    assert.equal(damaged.damaged.length, 1);
    assert.equal(damaged.ok, false);
    writeFileSync(copy, '');
    assert.deepEqual(await verifyAgainst(dir, copy), { ok: false, exported: 0, matched: 0, missing: [], damaged: [] });
  });
});
