// One build script for every bundle: the extension host entry, the CLI, the scanner worker,
// the language server and the webview. `--watch` rebuilds on change, `--production` minifies.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const node = {
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'info',
  // vscode is provided by the extension host and never bundled.
  external: ['vscode'],
  plugins: [telemetryChunk()],
};

/**
 * OpenTelemetry is its own bundle (`dist/telemetry.js`), loaded only when an OTLP endpoint is
 * configured (extension/telemetry/loadTelemetry.ts): the other bundles keep the import as a
 * `import("./telemetry.js")` next to themselves instead of carrying the SDK.
 */
function telemetryChunk() {
  return {
    name: 'telemetry-chunk',
    setup(build) {
      build.onResolve({ filter: /^\.\/telemetryRuntime$/ }, (args) =>
        args.kind === 'dynamic-import' ? { path: './telemetry.js', external: true } : undefined,
      );
    },
  };
}

/** Entries that do not exist yet (features land issue by issue) are skipped, not errors. */
const entries = [
  { ...node, entryPoints: ['extension/main.ts'], outfile: 'dist/extension.js' },
  { ...node, entryPoints: ['extension/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { ...node, entryPoints: ['extension/gateway/scanner/worker.ts'], outfile: 'dist/scannerWorker.js' },
  { ...node, entryPoints: ['extension/config/configWorker.ts'], outfile: 'dist/configWorker.js' },
  { ...node, entryPoints: ['extension/lsp/server.ts'], outfile: 'dist/lspServer.js' },
  { ...node, entryPoints: ['extension/telemetry/telemetryRuntime.ts'], outfile: 'dist/telemetry.js' },
  {
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    bundle: true,
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'info',
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
  },
].filter((e) => existsSync(path.join(root, e.entryPoints[0])));

const contexts = await Promise.all(entries.map((e) => esbuild.context({ ...e, absWorkingDir: root })));
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}
