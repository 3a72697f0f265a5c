import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { systemClock, type Clock } from '../common/clock';
import type { AuditLog } from './audit/auditLog';
import { GATEWAY_SERVER_NAME, type AuditRecord } from './audit/auditRecord';
import { replaceFile } from '../platform/replaceFile';

/** The kill-switch file in the config directory (rea's name, SPEC §7.3). */
export const HALT_FILE_NAME = 'HALT';
/** Bytes of HALT read for the reason (SPEC §7.3). */
export const HALT_READ_BYTES = 1024;
/** Longest freeze reason accepted, so reason + " (frozen at …)" fits in what is read back. */
export const FREEZE_REASON_MAX_BYTES = 960;

/** The outcome of one HALT probe (SPEC §7.3). Anything but `absent` means calls are denied. */
export type HaltState =
  | { decision: 'absent' }
  /** `reason`: the file's first 1024 bytes, trimmed ('' when empty or unreadable, e.g. a directory). */
  | { decision: 'present'; reason: string; checkedAt: string }
  /** The probe failed for another reason (EACCES, ELOOP, …): fail closed. */
  | { decision: 'unknown'; code: string; message: string; checkedAt: string };

// C0 controls and DEL (and the C1 block): a reason ends up in error texts and the UI.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Probes `<dir>/HALT` with exactly one `open(O_RDONLY)` — no stat first, so there is no
 * check-then-open window — and reads at most 1024 bytes of reason from the descriptor.
 * ENOENT → `absent`; open succeeded → `present` whatever the read does (a directory opens on
 * POSIX and then fails to read: still `present`, empty reason); any other error → `unknown`.
 * Never cached, never throws.
 *
 * This runs on every call, so it uses the callback fs API on a bare descriptor: the same single
 * thread-pool open, without the FileHandle and promise-rejection machinery of fs/promises,
 * which cost about twice as much per (usually ENOENT) probe.
 */
export async function readHalt(dir: string, clock: Clock = systemClock): Promise<HaltState> {
  const file = path.join(dir, HALT_FILE_NAME);
  let fd: number;
  try {
    fd = await new Promise<number>((resolve, reject) => fs.open(file, 'r', (err, opened) => (err ? reject(err) : resolve(opened))));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'ENOENT') return { decision: 'absent' };
    return {
      decision: 'unknown',
      code: typeof e?.code === 'string' ? e.code : 'EUNKNOWN',
      message: e instanceof Error ? e.message : String(err),
      checkedAt: new Date(clock.now()).toISOString(),
    };
  }
  // The decision is taken when open succeeds (SPEC: the time of the decision, not the mtime).
  const checkedAt = new Date(clock.now()).toISOString();
  let reason = '';
  try {
    const buf = Buffer.alloc(HALT_READ_BYTES);
    const bytesRead = await new Promise<number>((resolve, reject) => fs.read(fd, buf, 0, HALT_READ_BYTES, 0, (err, n) => (err ? reject(err) : resolve(n))));
    reason = cleanReason(new TextDecoder().decode(buf.subarray(0, bytesRead)), bytesRead === HALT_READ_BYTES);
  } catch {
    // EISDIR and friends: HALT exists, so the switch is on; only the reason is lost.
  } finally {
    await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
  }
  return { decision: 'present', reason, checkedAt };
}

/** The denial text for a HALT that is present. */
export function haltMessage(reason: string): string {
  return `Kill switch active: ${reason || 'HALT present'}. Run \`gatehouse unfreeze\` (or "Gatehouse: Unfreeze") to resume tool calls.`;
}

/** The result of {@link freeze}. */
export interface FreezeResult {
  /** What was written to HALT. */
  content: string;
  frozenAt: string;
  /** The audit record, or undefined when the audit append failed (`auditError` says why). */
  record?: AuditRecord;
  auditError?: Error;
}

/** The result of {@link unfreeze}. */
export interface UnfreezeResult {
  /** False when there was no HALT to remove. */
  wasFrozen: boolean;
  /** The reason HALT held, when it was present. */
  previousReason: string | null;
  record?: AuditRecord;
  auditError?: Error;
}

/** Options of {@link freeze} and {@link unfreeze}. */
export interface HaltWriteOptions {
  clock?: Clock;
  /** `session_id` of the audit record (default: the log's). */
  sessionId?: string;
}

/**
 * Engages the kill switch: writes `"<reason> (frozen at <ISO>)\n"` to `<dir>/HALT` (atomically:
 * a reader sees the old file or the new one, never a half-written reason) and appends a
 * gateway-originated `freeze` audit record (rea wrote none, SPEC §7.3 [gap]). The reason is
 * stripped of control characters; an empty one is refused. HALT is written first: an audit
 * failure must never stop the switch from engaging, so it is returned, not thrown (the log
 * reports it on `onDidFail` too).
 */
export async function freeze(dir: string, reason: string, audit: Pick<AuditLog, 'append'>, options: HaltWriteOptions = {}): Promise<FreezeResult> {
  const clean = reason.replace(CONTROL_CHARS, ' ').replace(/\s+/g, ' ').trim();
  if (!clean) throw new Error('freeze needs a reason (for example: "incident: leaked token").');
  if (Buffer.byteLength(clean, 'utf8') > FREEZE_REASON_MAX_BYTES) {
    throw new Error(`the freeze reason is longer than ${FREEZE_REASON_MAX_BYTES} bytes; shorten it.`);
  }
  const frozenAt = new Date((options.clock ?? systemClock).now()).toISOString();
  const content = `${clean} (frozen at ${frozenAt})\n`;
  await fsp.mkdir(dir, { recursive: true });
  const target = path.join(dir, HALT_FILE_NAME);
  const temp = path.join(dir, `.${HALT_FILE_NAME}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fsp.writeFile(temp, content, { mode: 0o600, flag: 'wx' });
    await replaceFile(temp, target);
  } catch (err) {
    await fsp.rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  const result: FreezeResult = { content, frozenAt };
  try {
    result.record = await audit.append({
      tool_name: 'freeze',
      server_name: GATEWAY_SERVER_NAME,
      session_id: options.sessionId,
      tier: 'write',
      status: 'allowed',
      autonomy_level: 'system',
      emission_source: 'gateway',
      metadata: { reason: clean, frozen_at: frozenAt },
    });
  } catch (err) {
    result.auditError = err instanceof Error ? err : new Error(String(err));
  }
  return result;
}

/**
 * Releases the kill switch: removes `<dir>/HALT` and appends a gateway-originated `unfreeze`
 * record with the reason it held. No HALT is not an error (`wasFrozen: false`, still
 * audited). A HALT that cannot be removed (a directory, EACCES) is audited as an error and
 * thrown: the switch stays on, which is the safe side.
 */
export async function unfreeze(dir: string, audit: Pick<AuditLog, 'append'>, options: HaltWriteOptions = {}): Promise<UnfreezeResult> {
  const clock = options.clock ?? systemClock;
  const before = await readHalt(dir, clock);
  const previousReason = before.decision === 'present' ? before.reason : null;
  const base = {
    tool_name: 'unfreeze',
    server_name: GATEWAY_SERVER_NAME,
    session_id: options.sessionId,
    tier: 'write',
    autonomy_level: 'system',
    emission_source: 'gateway',
  } as const;
  let wasFrozen = true;
  try {
    await fsp.unlink(path.join(dir, HALT_FILE_NAME));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'ENOENT') {
      wasFrozen = false;
    } else {
      const message = `could not remove ${HALT_FILE_NAME}: ${e?.code ?? ''} ${e instanceof Error ? e.message : String(err)}`.replace(/\s+/g, ' ');
      await audit
        .append({ ...base, status: 'error', error: message, metadata: { was_frozen: before.decision !== 'absent', previous_reason: previousReason } })
        .catch(() => undefined);
      throw new Error(`${message}. The kill switch stays on; remove ${path.join(dir, HALT_FILE_NAME)} by hand if it is not a regular file.`, { cause: err });
    }
  }
  const result: UnfreezeResult = { wasFrozen, previousReason };
  try {
    result.record = await audit.append({ ...base, status: 'allowed', metadata: { was_frozen: wasFrozen, previous_reason: previousReason } });
  } catch (err) {
    result.auditError = err instanceof Error ? err : new Error(String(err));
  }
  return result;
}

function cleanReason(text: string, maybeCut: boolean): string {
  // A 1024-byte cut can split a multi-byte character: drop the replacement char it leaves.
  const whole = maybeCut ? text.replace(/\uFFFD+$/, '') : text;
  return whole.replace(CONTROL_CHARS, ' ').trim();
}
