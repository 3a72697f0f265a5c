/**
 * Every process the extension starts passes `windowsHide: true` (issue 18: no console window
 * flashes on Windows when a server, taskkill, icacls, PowerShell or the watchdog starts). A
 * scan of the sources, so that a new spawn without it fails here rather than on a user's
 * desktop. (The language server is started by vscode-languageclient's fork of the editor's own
 * executable, a GUI program that opens no console.)
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

const ROOT = path.join(import.meta.dirname, '..', '..', '..', 'extension');
const STARTERS = ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'exec', 'execSync', 'fork'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : /\.(ts|mjs|js)$/.test(e.name) ? [path.join(dir, e.name)] : [],
  );
}

/** The text of each call to a child_process starter in `text`, up to its closing parenthesis. */
function processStarts(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(?:node:)?child_process'/g)) {
    for (const part of (m[1] ?? '').split(',')) {
      const [name, alias] = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/);
      if (name && STARTERS.includes(name)) names.add(alias ?? name);
    }
  }
  const namespaces = [...text.matchAll(/(?:const|let)\s+(\w+)\s*=\s*require\('(?:node:)?child_process'\)/g)].map((m) => m[1] as string);
  const calls: string[] = [];
  const callee = new RegExp(
    `(?<![\\w.])(?:${[...names].join('|') || '(?!)'})\\(|(?<![\\w.])(?:${namespaces.join('|') || '(?!)'})\\.(?:${STARTERS.join('|')})\\(`,
    'g',
  );
  for (const m of text.matchAll(callee)) {
    let depth = 0;
    let end = m.index;
    for (; end < text.length; end++) {
      if (text[end] === '(') depth++;
      else if (text[end] === ')' && --depth === 0) break;
    }
    calls.push(text.slice(m.index, end + 1));
  }
  return calls;
}

describe('windowsHide on every process start', () => {
  test('the scan finds starts, and a start without the option', () => {
    const sample = "import { spawn as run, type ChildProcess } from 'node:child_process';\nrun('a', [], { stdio: 'ignore' });\nconst cp = require('child_process');\ncp.execFileSync(x, [f(1)], { windowsHide: true });\n/re/.exec(s);";
    const starts = processStarts(sample);
    assert.equal(starts.length, 2);
    assert.ok(!starts[0]?.includes('windowsHide: true'));
    assert.ok(starts[1]?.includes('windowsHide: true'));
  });

  test('every spawn, execFile and fork under extension/ passes windowsHide: true', () => {
    const missing: string[] = [];
    let found = 0;
    for (const file of sources(ROOT)) {
      for (const call of processStarts(readFileSync(file, 'utf8'))) {
        found++;
        if (!/windowsHide:\s*true/.test(call)) missing.push(`${path.relative(ROOT, file)}: ${call.slice(0, 80)}`);
      }
    }
    assert.ok(found >= 6, `only ${found} process starts found: the scan is broken`);
    assert.deepEqual(missing, []);
  });
});
