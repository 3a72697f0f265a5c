import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { resolveConfigDir } from '../config/configDir';
import type { ApprovalWaitingView, ConfigStateView, SessionBlockView } from '../protocol/model';
import { PID_FILE_NAME, STATE_FILE_NAME, parseStateFile, type StateFileContents } from '../state/stateFile';
import { flag, type ParsedArgs } from './args';
import { probePid } from '../state/probePid';
import type { TelemetryStats } from '../telemetry/telemetryTypes';

/**
 * A snapshot of ours older than this (3 missed heartbeats) means the gateway is hung or gone.
 * Only our own files heartbeat: rea rewrites its file on change only (SPEC Appendix E).
 */
const STALE_AFTER_MS = 30_000;

/** What `gatehouse status --json` prints. */
export interface StatusReport {
  base_dir: string;
  config_dir: string;
  serve: {
    running: boolean;
    pid: number | null;
    /** The pid file names a dead process. */
    stale: boolean;
    /** Age of the snapshot (ms since updated_at), null when unknown. */
    snapshot_age_ms: number | null;
    /**
     * Who wrote the state file: `gatehouse` when it carries our `gatehouse` block (rea never
     * writes one), `rea` otherwise, null when there is no readable file.
     */
    writer: 'gatehouse' | 'rea' | null;
    /**
     * Our snapshot is older than three heartbeats, or the file's owner differs from the pid
     * file. A rea file is never stale by age: rea writes only when something changes.
     */
    snapshot_stale: boolean;
    owner_pid: number | null;
    session_id: string | null;
    started_at: string | null;
    metrics_port: number | null;
    downstreams: StateFileContents['downstreams'];
    /** SESSION_BLOCKERs that fired in the running session. */
    session_blocks: SessionBlockView[];
    /** The policy in force and the config's problems, as the running gateway last loaded them. */
    config: ConfigStateView | null;
    /** OpenTelemetry export counts (exported, dropped); null when export is off. */
    telemetry: TelemetryStats | null;
    /** Calls waiting for a person (policy `approval:`); empty when none, or the writer does not publish them (rea). */
    approvals_waiting: ApprovalWaitingView[];
  };
  halt: { active: boolean; reason: string | null };
  audit: { present: boolean; lines: number | null; last_timestamp: string | null; tail_hash_looks_valid: boolean };
}

/**
 * `gatehouse status [--json]`: reads what a running gateway publishes (like `rea status`,
 * SPEC §6.1), plus the snapshot's age and ownership checks rea lacks. Exit code: 0 when every
 * server is ready, 1 when any is not, 2 when no gateway runs.
 */
export async function status(args: ParsedArgs): Promise<number> {
  const folder = path.resolve(flag(args, 'folder') ?? process.cwd());
  const report = await buildStatus(folder, flag(args, 'dir'));
  process.stdout.write(args.flags.has('json') ? `${escapeInvisible(JSON.stringify(report, null, 2))}\n` : renderStatus(report));
  if (!report.serve.running) return 2;
  const ds = report.serve.downstreams ?? [];
  return ds.every((d) => d.state === undefined ? d.connected && d.healthy : d.state === 'ready' || d.state === 'disabled') && !report.serve.snapshot_stale ? 0 : 1;
}

export async function buildStatus(folder: string, configDir?: string, now = Date.now()): Promise<StatusReport> {
  const { dir } = await resolveConfigDir(folder, configDir);
  const pidText = await readFile(path.join(dir, PID_FILE_NAME), 'utf8').catch(() => undefined);
  const pid = pidText !== undefined && /^\s*\d+\s*$/.test(pidText) ? Number(pidText) : null;
  const running = pid !== null && pid > 0 && isAlive(pid);
  const stateText = pid ? await readFile(path.join(dir, STATE_FILE_NAME), 'utf8').catch(() => undefined) : undefined;
  const state = stateText ? parseStateFile(stateText) : null;
  const updated = state?.updated_at ? Date.parse(state.updated_at) : NaN;
  const age = Number.isFinite(updated) ? Math.max(0, now - updated) : null;
  const ownerMismatch = state?.owner_pid != null && pid !== null && state.owner_pid !== pid;
  const writer = state ? (state.gatehouse ? 'gatehouse' : 'rea') : null;
  const heartbeatMissed = writer === 'gatehouse' && age !== null && age > STALE_AFTER_MS;
  return {
    base_dir: folder,
    config_dir: dir,
    serve: {
      running,
      pid,
      stale: pid !== null && !running,
      snapshot_age_ms: age,
      writer,
      snapshot_stale: running && (heartbeatMissed || ownerMismatch),
      owner_pid: state?.owner_pid ?? null,
      session_id: state?.session_id ?? null,
      started_at: state?.started_at ?? null,
      metrics_port: state?.metrics_port ?? null,
      downstreams: state?.downstreams ?? null,
      session_blocks: state?.gatehouse?.session_blocks ?? [],
      config: state?.gatehouse?.config ?? null,
      telemetry: state?.gatehouse?.telemetry ?? null,
      approvals_waiting: state?.gatehouse?.approvals_waiting ?? [],
    },
    halt: await readHaltSummary(dir),
    audit: await auditSummary(path.join(dir, 'audit.jsonl')),
  };
}

async function readHaltSummary(dir: string): Promise<StatusReport['halt']> {
  try {
    const text = await readFile(path.join(dir, 'HALT'), 'utf8');
    return { active: true, reason: text.trim() || null };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { active: code !== 'ENOENT', reason: null };
  }
}

/** Line count streamed in 64 KiB chunks and the last record from the tail: bounded memory. */
async function auditSummary(file: string): Promise<StatusReport['audit']> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    return { present: false, lines: null, last_timestamp: null, tail_hash_looks_valid: false };
  }
  const handle = await open(file, 'r');
  try {
    const chunk = Buffer.alloc(64 * 1024);
    let lines = 0;
    for (let pos = 0; pos < size; ) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, pos);
      if (bytesRead === 0) break;
      for (let i = 0; i < bytesRead; i++) if (chunk[i] === 0x0a) lines++;
      pos += bytesRead;
    }
    const start = Math.max(0, size - chunk.length);
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, start);
    const last = chunk.toString('utf8', 0, bytesRead).split('\n').filter((l) => l.trim()).pop();
    let timestamp: string | null = null;
    let valid = false;
    try {
      const rec = JSON.parse(last ?? '') as { timestamp?: unknown; hash?: unknown };
      timestamp = typeof rec.timestamp === 'string' ? rec.timestamp : null;
      valid = typeof rec.hash === 'string' && /^[0-9a-f]{64}$/.test(rec.hash);
    } catch {
      // corrupt tail: reported as not valid
    }
    return { present: true, lines, last_timestamp: timestamp, tail_hash_looks_valid: valid };
  } finally {
    await handle.close();
  }
}

/**
 * JSON escapes control characters itself but leaves bidi overrides, zero-width characters and
 * line separators raw, which can still disguise text in a terminal; `\uXXXX` keeps the value
 * identical for any JSON reader.
 */
function escapeInvisible(json: string): string {
  return json.replace(/[\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Replaces control and bidi characters so a hostile state file cannot rewrite the terminal. */
export function sanitize(text: string): string {
  return text.replace(/[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/g, '?');
}

/** One line per export: what left and what was lost (queue full, or the collector failing). */
function renderTelemetry(t: TelemetryStats): string {
  const part = (name: string, c: TelemetryStats['spans'] | undefined) =>
    c ? `${name} ${c.exported} exported, ${c.dropped} dropped${c.failed_exports ? ` (${c.failed_exports} failed exports)` : ''}` : '';
  return [part('spans', t.spans), part('audit records', t.logs)].filter(Boolean).join('; ');
}

function renderStatus(r: StatusReport): string {
  const s = sanitize;
  const out: string[] = [`Gatehouse status for ${s(r.base_dir)} (config: ${s(r.config_dir)})`, ''];
  out.push(`Kill switch: ${r.halt.active ? `ACTIVE${r.halt.reason ? ` — ${s(r.halt.reason)}` : ''}` : 'inactive'}`);
  if (!r.serve.running) {
    out.push(`Gateway: not running${r.serve.stale ? ` (stale pid file — pid ${r.serve.pid})` : ''}`);
  } else {
    const age = r.serve.snapshot_age_ms === null ? 'unknown age' : `${(r.serve.snapshot_age_ms / 1000).toFixed(1)} s old`;
    out.push(`Gateway: running, pid ${r.serve.pid}, session ${s(r.serve.session_id ?? '?')}, since ${s(r.serve.started_at ?? '?')}`);
    const byRea = r.serve.writer === 'rea' ? ' (written by rea, which rewrites it only on change)' : '';
    out.push(`Snapshot: ${age}${byRea}${r.serve.snapshot_stale ? ' — STALE: the gateway may be hung, or another process owns the state' : ''}`);
    const config = r.serve.config;
    if (config) {
      out.push(`Policy: ${s(config.policy)}`);
      if (config.errors) out.push(`Config: ${config.errors} error${config.errors === 1 ? '' : 's'}, the last good config keeps running — ${s(config.first_error ?? '')}`);
    }
    out.push(`Metrics: ${r.serve.metrics_port ? `http://127.0.0.1:${r.serve.metrics_port}/metrics` : 'disabled (set GATEHOUSE_METRICS_PORT)'}`);
    out.push(`Telemetry: ${r.serve.telemetry ? renderTelemetry(r.serve.telemetry) : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT)'}`);
    out.push('', 'Downstreams:');
    const ds = r.serve.downstreams;
    if (ds === null) out.push('  (this state file has no downstream block: the gateway is older than rea 0.9)');
    else if (ds.length === 0) out.push('  none declared in registry.yaml');
    for (const d of ds ?? []) {
      const state = d.state ?? (d.connected && d.healthy ? 'ready' : d.healthy ? 'connecting' : 'UNHEALTHY');
      const offers = [d.prompts_count ? `${d.prompts_count} prompts` : '', d.resources_count ? `${d.resources_count} resources` : ''].filter(Boolean);
      const tools = (d.tools_count === null ? '' : ` · ${d.tools_count} tools`) + offers.map((o) => ` · ${o}`).join('');
      out.push(`  ${s(d.name)}: ${state}${tools} · circuit ${d.circuit_state}${d.retry_at ? ` (retry at ${s(d.retry_at)})` : ''}`);
      if (d.restarts) out.push(`    restarts: ${d.restarts}`);
      if (d.open_transitions > 0) out.push(`    circuit opens: ${d.open_transitions}${d.session_blocker_emitted ? ' (SESSION_BLOCKER fired)' : ''}`);
      if (d.reason && d.state !== 'ready') out.push(`    why: ${s(d.reason)}`);
      if (d.last_error) out.push(`    last error: ${s(d.last_error)}`);
    }
    const blocks = r.serve.session_blocks;
    if (blocks.length) {
      out.push('', 'Session blocks:');
      for (const b of blocks) out.push(`  ${s(b.server)}: circuit opened ${b.open_transitions} times (threshold ${b.threshold}) at ${s(b.emitted_at)}`);
    }
    const waiting = r.serve.approvals_waiting;
    if (waiting.length) {
      out.push('', `Approvals waiting: ${waiting.length}`);
      for (const a of waiting) {
        const who = a.asked === 'editor' ? 'the editor' : 'the client (elicitation)';
        out.push(`  ${s(a.server)}__${s(a.tool)} (${a.tier}) from ${s(a.client)}: asked ${who} since ${s(a.since)}, denied at ${s(a.expires_at)} without an answer`);
      }
    }
  }
  out.push('', 'Audit log:');
  if (!r.audit.present) out.push('  not yet written');
  else if (!r.audit.lines) out.push('  empty');
  else {
    out.push(`  ${r.audit.lines} records, last at ${s(r.audit.last_timestamp ?? '?')}`);
    out.push(`  tail hash ${r.audit.tail_hash_looks_valid ? 'looks valid' : 'has an unexpected shape — run `gatehouse audit verify`'}`);
  }
  return `${out.join('\n')}\n`;
}

function isAlive(pid: number): boolean {
  return probePid(pid) === 'alive';
}
