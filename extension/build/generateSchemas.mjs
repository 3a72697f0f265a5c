// Writes the JSON Schemas of registry.yaml and policy.yaml (for contributes.yamlValidation)
// from the zod schemas, so they cannot drift from what the gateway enforces. Generated into
// dist/schemas at build time, never committed:  node extension/build/generateSchemas.mjs [outDir]
import { tsImport } from 'tsx/esm/api';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = path.resolve(root, process.argv[2] ?? 'dist/schemas');

const { jsonSchemaFor, JSON_SCHEMA_FILES } = await tsImport('../lsp/jsonSchemas.ts', import.meta.url);

await mkdir(outDir, { recursive: true });
for (const kind of ['registry', 'policy']) {
  const file = path.join(outDir, JSON_SCHEMA_FILES[kind]);
  // Compact: the files ship in the .vsix and no one reads them by hand.
  await writeFile(file, `${JSON.stringify(jsonSchemaFor(kind))}\n`);
  console.log(`wrote ${path.relative(root, file)}`);
}
