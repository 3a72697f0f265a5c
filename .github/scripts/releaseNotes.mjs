#!/usr/bin/env node
// The release notes of one version: its section of CHANGELOG.md (Keep a Changelog headings,
// `## [0.2.0] - 2026-12-01` or `## 0.2.0`), and the check that the pushed tag names the version
// in package.json, so what is published is what was described.
//
//   node .github/scripts/releaseNotes.mjs [--tag v0.2.0] [--out notes.md] [--dry-run]
//
// Prints `version=<x.y.z>` (for $GITHUB_OUTPUT) and writes the notes to --out (stdout without it).
// --dry-run (npm test) accepts the [Unreleased] section when the version has none yet.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The body of the CHANGELOG section for `version` (trimmed); throws when there is none. */
export function releaseNotes(changelog, version, { fallbackToUnreleased = false } = {}) {
  const escaped = version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const find = (heading) => {
    const lines = changelog.split(/\r?\n/);
    const start = lines.findIndex((l) => heading.test(l));
    if (start === -1) return undefined;
    const rest = lines.slice(start + 1);
    const end = rest.findIndex((l) => /^## /.test(l) || /^\[[^\]]+\]:\s/.test(l));
    return (end === -1 ? rest : rest.slice(0, end)).join('\n').trim();
  };
  const own = find(new RegExp(`^## \\[?v?${escaped}\\]?(?:\\s|$)`));
  const body = own ?? (fallbackToUnreleased ? find(/^## \[?Unreleased\]?\s*$/i) : undefined);
  if (body === undefined) throw new Error(`CHANGELOG.md has no "## [${version}]" section: move the Unreleased notes under it before tagging`);
  if (body === '') throw new Error(`the CHANGELOG.md section for ${version} is empty`);
  return body;
}

/** The tag a release of `version` must be pushed as. */
export function tagFor(version) {
  return `v${version}`;
}

function main(argv) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const arg = (name) => {
    const i = argv.indexOf(name);
    return i === -1 ? undefined : argv[i + 1];
  };
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const tag = arg('--tag');
  if (tag !== undefined && tag !== tagFor(version)) throw new Error(`tag ${tag} does not match package.json's version ${version} (expected ${tagFor(version)})`);
  const notes = releaseNotes(readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8'), version, { fallbackToUnreleased: argv.includes('--dry-run') });
  const out = arg('--out');
  if (out) writeFileSync(out, `${notes}\n`);
  else process.stdout.write(`${notes}\n`);
  if (out) process.stdout.write(`version=${version}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`releaseNotes: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
