import path from 'node:path';
import { resolveConfigDir } from '../config/configDir';
import { loadRegistry } from '../config/loadConfig';
import { formatProblem, hasErrors } from '../config/problem';
import { AuditLog } from '../gateway/audit/auditLog';
import { verifyAuditDir } from '../gateway/audit/verifyAudit';
import { freeze, unfreeze } from '../gateway/halt';
import { classifyTrust } from '../gateway/trust/classifyTrust';
import { readFingerprints, writeFingerprints } from '../gateway/trust/fingerprintStore';
import { tofuAuditInput } from '../gateway/trust/tofuAuditInput';
import { flag, type ParsedArgs } from './args';
import { auditVerifyAgainst } from './auditVerifyAgainst';

async function configDirOf(args: ParsedArgs): Promise<string> {
  const folder = path.resolve(flag(args, 'folder') ?? process.cwd());
  return (await resolveConfigDir(folder, flag(args, 'dir'))).dir;
}

/** `gatehouse audit verify`: walks the hash chain; exit 1 at the first unexplained break. */
export async function auditVerify(args: ParsedArgs): Promise<number> {
  const dir = await configDirOf(args);
  const against = flag(args, 'against');
  if (against) return auditVerifyAgainst(dir, path.resolve(against), args.flags.has('json'));
  let result: Awaited<ReturnType<typeof verifyAuditDir>>;
  try {
    result = await verifyAuditDir(dir, { since: flag(args, 'since') });
  } catch (err) {
    process.stderr.write(`gatehouse audit verify: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (args.flags.has('json')) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return result.ok ? 0 : 1;
  }
  if (result.files.length === 0 && result.tailCuts.length === 0) {
    process.stdout.write(`No audit log in ${dir} yet.\n`);
    return 0;
  }
  for (const b of result.recordedBreaks) {
    process.stdout.write(`note: ${path.basename(b.file)}:${b.line}: the writer recorded a chain break (${b.reason})\n`);
  }
  for (const cut of result.tailCuts) {
    const where = cut.source === 'recorded' ? ` (found by the writer at ${cut.timestamp ?? '?'}, recorded at ${path.basename(cut.file)} line ${cut.line ?? '?'})` : '';
    process.stdout.write(`Audit log CUT: ${cut.message}${where}\n`);
  }
  if (result.ok) {
    process.stdout.write(`Audit chain OK: ${result.records} records in ${result.files.length} file(s).\n`);
    return 0;
  }
  const first = result.firstBreak;
  if (first) {
    process.stdout.write(`Audit chain BROKEN at ${path.basename(first.file)} line ${first.line}: ${first.message}\n`);
    if (first.expected) process.stdout.write(`  expected ${first.expected}\n  found    ${first.found ?? '(nothing)'}\n`);
  }
  if (result.breakCount > 1) process.stdout.write(`${result.breakCount - 1} more break(s) after it.\n`);
  return 1;
}

/** `gatehouse freeze --reason "…"`: engages the kill switch (audited). */
export async function freezeCommand(args: ParsedArgs): Promise<number> {
  const reason = flag(args, 'reason');
  if (!reason) {
    process.stderr.write('gatehouse freeze: say why with --reason "…" (it is shown with every denied call)\n');
    return 1;
  }
  const dir = await configDirOf(args);
  const audit = await AuditLog.open({ dir });
  try {
    const result = await freeze(dir, reason, audit);
    process.stdout.write(`Frozen at ${result.frozenAt}: every proxied call is denied until \`gatehouse unfreeze\`.\n`);
    if (result.auditError) process.stderr.write(`warning: the audit record could not be written: ${result.auditError.message}\n`);
    return 0;
  } finally {
    await audit.close();
  }
}

/** `gatehouse unfreeze`: releases the kill switch (audited). */
export async function unfreezeCommand(args: ParsedArgs): Promise<number> {
  const dir = await configDirOf(args);
  const audit = await AuditLog.open({ dir });
  try {
    const result = await unfreeze(dir, audit);
    process.stdout.write(result.wasFrozen ? 'Unfrozen: calls flow again.\n' : 'Not frozen: nothing to do.\n');
    if (result.auditError) process.stderr.write(`warning: the audit record could not be written: ${result.auditError.message}\n`);
    return 0;
  } finally {
    await audit.close();
  }
}

/** `gatehouse trust list` / `gatehouse trust accept <name>`: the TOFU store. */
export async function trustCommand(args: ParsedArgs): Promise<number> {
  const [, action, name] = args.positionals;
  const dir = await configDirOf(args);
  const loaded = await loadRegistry(dir);
  if (!loaded.registry || hasErrors(loaded.problems)) {
    process.stderr.write(`${loaded.problems.map(formatProblem).join('\n')}\n`);
    return 1;
  }
  const store = await readFingerprints(dir);
  const verdicts = classifyTrust(loaded.registry.servers, store.servers);
  if (action === 'list' || action === undefined) {
    for (const v of verdicts) {
      const extra = v.kind === 'drifted' ? ` (stored ${v.stored.slice(0, 16)}, now ${v.current.slice(0, 16)})` : ` ${v.current.slice(0, 16)}`;
      process.stdout.write(`${v.name}: ${v.kind}${extra}\n`);
    }
    return 0;
  }
  if (action !== 'accept' || !name) {
    process.stderr.write('usage: gatehouse trust list | gatehouse trust accept <server>\n');
    return 1;
  }
  const verdict = verdicts.find((v) => v.name === name);
  if (!verdict) {
    process.stderr.write(`gatehouse trust: no server '${name}' in registry.yaml\n`);
    return 1;
  }
  const audit = await AuditLog.open({ dir });
  try {
    // Audited before stored: a crash in between asks again rather than trusting silently.
    await audit.append(
      tofuAuditInput(
        verdict.kind === 'drifted'
          ? { event: 'drift_accepted', server: name, stored: verdict.stored, current: verdict.current, via: 'cli' }
          : { event: 'first_seen', server: name, fingerprint: verdict.current, via: 'cli' },
      ),
    );
  } finally {
    await audit.close();
  }
  store.servers[name] = verdict.current;
  await writeFingerprints(dir, store);
  process.stdout.write(`Accepted ${name} (${verdict.current.slice(0, 16)}). A running gateway picks it up on its next reload or restart.\n`);
  return 0;
}
