/**
 * A launcher for `gatehouse` that outlives extension updates.
 *
 * "Copy Client Configuration" used to write the path of this version's `dist/cli.js` into
 * Claude Code, Cursor or `.mcp.json` entries; VS Code deletes that folder when it updates the
 * extension, and every entry broke. The entries now name a small script in the extension's
 * global storage (a folder that belongs to the extension id, not to a version), which finds the
 * current `cli.js` when it runs:
 * 1. `current.json` beside it, rewritten at every activation: `{ id, version, cli }`;
 * 2. when that file is gone (the update happened and the new version has not been activated
 *    yet), the newest `<id>-<version>` folder beside the old one in the extensions directory.
 * It then runs that `cli.js` in its own process with the same arguments, so `bridge` speaks
 * stdio exactly as if started directly.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { replaceFile } from './replaceFile';

/** File name of the launcher inside the global storage folder. */
export const LAUNCHER_FILE = 'gatehouse-launcher.cjs';
/** File name of the pointer the launcher reads. */
export const CURRENT_FILE = 'current.json';

/** What activation records about the running version. */
export interface LauncherTarget {
  /** Extension id, `publisher.name` (the prefix of its folder in the extensions directory). */
  id: string;
  version: string;
  /** Absolute path of this version's `dist/cli.js`. */
  cli: string;
}

/**
 * The launcher's source: plain CommonJS for any Node the client runs, no dependencies,
 * synchronous file access (it is a short-lived CLI process, not the extension host).
 */
export const LAUNCHER_SOURCE = `#!/usr/bin/env node
// Written by the Gatehouse extension at every activation; do not edit (it is rewritten).
// Client configurations name this file instead of one version's dist/cli.js, which VS Code
// deletes when it updates the extension. See extension/platform/bridgeLauncher.ts.
'use strict';
const fs = require('fs');
const path = require('path');

function versionKey(name, prefix) {
  return name.slice(prefix.length).split(/[.-]/).map((part) => (/^\\d+$/.test(part) ? Number(part) : -1));
}

function newerFirst(prefix) {
  return (a, b) => {
    const x = versionKey(a, prefix);
    const y = versionKey(b, prefix);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const d = (y[i] === undefined ? -1 : y[i]) - (x[i] === undefined ? -1 : x[i]);
      if (d !== 0) return d;
    }
    return 0;
  };
}

function candidates() {
  let current;
  try {
    current = JSON.parse(fs.readFileSync(path.join(__dirname, '${CURRENT_FILE}'), 'utf8'));
  } catch (err) {
    return [];
  }
  if (!current || typeof current.cli !== 'string' || typeof current.id !== 'string') return [];
  const found = [current.cli];
  // <extensions>/<id>-<version>/dist/cli.js: look for the version that replaced this one.
  const extensions = path.dirname(path.dirname(path.dirname(current.cli)));
  const prefix = current.id.toLowerCase() + '-';
  let names = [];
  try {
    names = fs.readdirSync(extensions).filter((n) => n.toLowerCase().startsWith(prefix) && /^\\d/.test(n.slice(prefix.length)));
  } catch (err) {
    names = [];
  }
  names.sort(newerFirst(prefix));
  for (const name of names) found.push(path.join(extensions, name, 'dist', 'cli.js'));
  return found;
}

const cli = candidates().find((file) => fs.existsSync(file));
if (!cli) {
  process.stderr.write('gatehouse: the Gatehouse extension was not found (uninstalled?). Open VS Code once with Gatehouse installed, or point this client at gatehouse directly.\\n');
  process.exit(1);
}
process.argv[1] = cli;
require(cli);
`;

/**
 * Writes (or refreshes) the launcher and its pointer in `storageDir`; resolves with the
 * launcher's path. Both are replaced atomically, so a client starting the bridge meanwhile reads
 * the old or the new file, never half of one.
 */
export async function installLauncher(storageDir: string, target: LauncherTarget): Promise<string> {
  await mkdir(storageDir, { recursive: true });
  const launcher = path.join(storageDir, LAUNCHER_FILE);
  await writeAtomic(path.join(storageDir, CURRENT_FILE), `${JSON.stringify(target, null, 2)}\n`);
  await writeAtomic(launcher, LAUNCHER_SOURCE);
  return launcher;
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await replaceFile(tmp, file);
}
