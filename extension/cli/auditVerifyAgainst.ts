import { verifyAgainst } from '../telemetry/verifyAgainst';

/**
 * `gatehouse audit verify --against <file>`: exit 0 when every exported record is still in
 * the local log, 1 when one is missing or rewritten (or the copy is damaged or empty).
 */
export async function auditVerifyAgainst(dir: string, file: string, json: boolean): Promise<number> {
  let result;
  try {
    result = await verifyAgainst(dir, file);
  } catch (err) {
    process.stderr.write(`gatehouse audit verify: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return result.ok ? 0 : 1;
  }
  if (result.exported === 0) {
    process.stdout.write(`No exported audit records in ${file}.\n`);
    return 1;
  }
  for (const r of result.missing) {
    const what = `${r.timestamp ?? '?'} ${r.server_name ?? '?'}/${r.tool_name ?? '?'} ${r.hash.slice(0, 16)}`;
    process.stdout.write(
      r.replaced_by
        ? `REWRITTEN: ${what}: the local log holds ${r.replaced_by.slice(0, 16)} in its place\n`
        : `MISSING: ${what}: exported, but not in the local log\n`,
    );
  }
  for (const r of result.damaged) process.stdout.write(`DAMAGED COPY: ${r.hash.slice(0, 16)}: its exported fields do not hash to it\n`);
  process.stdout.write(
    result.ok
      ? `Audit log matches the exported copy: ${result.matched} of ${result.exported} exported records present.\n`
      : `Audit log DIFFERS from the exported copy: ${result.matched} of ${result.exported} present, ${result.missing.length} missing or rewritten.\n`,
  );
  return result.ok ? 0 : 1;
}
