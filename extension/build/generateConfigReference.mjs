// Rewrites the configuration reference in README.md (between <!-- config-reference:start -->
// and <!-- config-reference:end -->) from the zod schemas, as `npm run docs`. `--check` only
// reports whether it is up to date (exit 1 when not), for CI or a pre-commit hook.
import { tsImport } from 'tsx/esm/api';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readmePath = path.join(root, 'README.md');

const { withConfigReference } = await tsImport('./generateConfigReference.ts', import.meta.url);

const before = await readFile(readmePath, 'utf8');
const after = withConfigReference(before);
if (after === before) {
  console.log('README.md: the configuration reference is up to date');
} else if (process.argv.includes('--check')) {
  console.error('README.md: the configuration reference is out of date; run npm run docs');
  process.exitCode = 1;
} else {
  await writeFile(readmePath, after);
  console.log('README.md: configuration reference updated');
}
