import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AUDIT_FILE_NAME, hashRecordBody, isHashString } from '../gateway/audit/auditRecord';

/** One audit record as the exported copy holds it. */
export interface ExportedRecord {
  hash: string;
  prev_hash: string;
  timestamp?: string;
  tool_name?: string;
  server_name?: string;
  /** The fields rebuilt from the copy hash to `hash` (false: the copy itself is damaged). */
  intact: boolean;
}

export interface AgainstResult {
  ok: boolean;
  /** Audit records found in the exported file. */
  exported: number;
  /** Of those, present unchanged in the local log. */
  matched: number;
  /** Exported records the local log no longer holds: removed, or rewritten (`replaced_by`). */
  missing: (ExportedRecord & { replaced_by?: string })[];
  /** Exported records whose fields do not hash to their `hash` (a damaged or forged copy). */
  damaged: ExportedRecord[];
}

const PREFIX = 'gatehouse.audit.';
/** Fields exported as JSON text because OpenTelemetry attributes are flat (auditExport.ts). */
const JSON_FIELDS = new Set(['metadata', 'redacted_fields']);

/**
 * `gatehouse audit verify --against <file>`: compares the local audit log with a copy that
 * left the machine as OpenTelemetry log records. The file holds one JSON document per line,
 * each either an OTLP/JSON `ExportLogsServiceRequest` (what the OpenTelemetry Collector's
 * `file` exporter writes) or an audit record itself (a copy of audit.jsonl lines).
 *
 * A local user who rewrites audit.jsonl can re-hash the whole chain so that `audit verify`
 * passes; the exported copy still names the original hashes, and every one missing locally
 * is reported (with the local record that took its place, when one links to the same
 * prev_hash).
 */
export async function verifyAgainst(configDir: string, exportFile: string): Promise<AgainstResult> {
  const exported: ExportedRecord[] = [];
  for await (const doc of jsonLines(exportFile)) exported.push(...exportedRecords(doc));
  const local = new Map<string, string>();
  const byPrev = new Map<string, string>();
  const names = (await readdir(configDir)).filter((n) => n === AUDIT_FILE_NAME || /^audit-.+\.jsonl$/.test(n));
  for (const name of names) {
    for await (const doc of jsonLines(path.join(configDir, name))) {
      const r = doc as { hash?: unknown; prev_hash?: unknown };
      if (!isHashString(r.hash) || !isHashString(r.prev_hash)) continue;
      local.set(r.hash, r.prev_hash);
      byPrev.set(r.prev_hash, r.hash);
    }
  }
  const missing: AgainstResult['missing'] = [];
  const damaged: ExportedRecord[] = [];
  let matched = 0;
  for (const record of exported) {
    if (!record.intact) damaged.push(record);
    else if (local.get(record.hash) === record.prev_hash) matched++;
    else {
      const other = byPrev.get(record.prev_hash);
      missing.push({ ...record, ...(other && other !== record.hash ? { replaced_by: other } : {}) });
    }
  }
  return { ok: missing.length === 0 && damaged.length === 0 && exported.length > 0, exported: exported.length, matched, missing, damaged };
}

async function* jsonLines(file: string): AsyncGenerator<unknown> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    try {
      yield JSON.parse(line) as unknown;
    } catch {
      // A torn last line of a copy being written: not a record.
    }
  }
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

function exportedRecords(doc: unknown): ExportedRecord[] {
  if (!doc || typeof doc !== 'object') return [];
  const d = doc as { resourceLogs?: { scopeLogs?: { logRecords?: { attributes?: { key: string; value: OtlpValue }[] }[] }[] }[] };
  if (!Array.isArray(d.resourceLogs)) return isHashString((doc as { hash?: unknown }).hash) ? [check(doc as Record<string, unknown>)] : [];
  const out: ExportedRecord[] = [];
  for (const rl of d.resourceLogs) {
    for (const sl of rl.scopeLogs ?? []) {
      for (const lr of sl.logRecords ?? []) {
        const fields: Record<string, unknown> = {};
        for (const a of lr.attributes ?? []) {
          if (!a.key.startsWith(PREFIX)) continue;
          const key = a.key.slice(PREFIX.length);
          const value = plain(a.value);
          fields[key] = JSON_FIELDS.has(key) && typeof value === 'string' ? parseJson(value) : value;
        }
        if (isHashString(fields.hash)) out.push(check(fields));
      }
    }
  }
  return out;
}

function check(fields: Record<string, unknown>): ExportedRecord {
  const { hash, ...body } = fields;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    hash: String(hash),
    prev_hash: String(fields.prev_hash),
    timestamp: str(fields.timestamp),
    tool_name: str(fields.tool_name),
    server_name: str(fields.server_name),
    intact: safeHash(body) === hash,
  };
}

function safeHash(body: Record<string, unknown>): string | undefined {
  try {
    return hashRecordBody(body);
  } catch {
    return undefined;
  }
}

function plain(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return v.boolValue;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
