/**
 * The editor and the gateway must report the same problems for the same file. For every config
 * fixture, the file is put where a gateway reads it (`<workspace>/.gatehouse/` and `.rea/`), loaded
 * through the gateway's own entry points (`loadRegistry` / `loadPolicy`, what GatewayService
 * calls), validated by the language server's `validateConfig`, and the two lists are compared
 * by code, severity and range. The language server may add only its editor-only warnings.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadPolicy, loadRegistry } from '../../../extension/config/loadConfig';
import { EDITOR_ONLY_CODES } from '../../../extension/lsp/editorWarnings';
import { toLspRange } from '../../../extension/lsp/validate';
import { CONFIGS, rangeTuple, validateFully } from './helpers';

function fixtures(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return fixtures(full);
    return /\.(registry|policy)\.yaml$/.test(name) ? [full] : [];
  });
}

const all = fixtures(CONFIGS).sort();
const workspace = mkdtempSync(path.join(tmpdir(), 'gatehouse-parity-'));
after(() => rmSync(workspace, { recursive: true, force: true }));

test('there are fixtures of both kinds to compare', () => {
  assert.ok(all.filter((f) => f.endsWith('.registry.yaml')).length >= 20);
  assert.ok(all.filter((f) => f.endsWith('.policy.yaml')).length >= 10);
});

for (const fixture of all) {
  for (const dirName of ['.gatehouse', '.rea']) {
    const relative = path.relative(CONFIGS, fixture);
    test(`${relative} in ${dirName}/: the gateway and the language server agree`, async () => {
      const kind = fixture.endsWith('.policy.yaml') ? 'policy' : 'registry';
      const dir = path.join(workspace, relative.replace(/[\\/]/g, '_'), dirName);
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${kind}.yaml`);
      copyFileSync(fixture, file);

      const gateway = kind === 'registry' ? await loadRegistry(dir) : await loadPolicy(dir);
      const lsp = await validateFully({ file, text: readFileSync(file, 'utf8'), kind }, process.env);

      const fromGateway = gateway.problems.map((p) => [p.code, p.severity === 'error' ? 1 : 2, ...rangeTuple(toLspRange(p)), p.message]);
      const fromLsp = lsp.diagnostics.filter((d) => !EDITOR_ONLY_CODES.includes(d.code)).map((d) => [d.code, d.severity, ...rangeTuple(d.range), d.message]);
      const byPosition = (a: unknown[], b: unknown[]): number => String(a.slice(0, 6)).localeCompare(String(b.slice(0, 6)));
      assert.deepEqual(fromLsp.sort(byPosition), fromGateway.sort(byPosition));

      // What the language server adds is never an error: it cannot block a config the gateway accepts.
      for (const d of lsp.diagnostics.filter((x) => EDITOR_ONLY_CODES.includes(x.code))) assert.equal(d.severity, 2, d.message);
    });
  }
}
