/** Shared helpers for the language-server unit tests. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { HostEnv } from '../../../extension/config/childEnv';
import { CommandResolver } from '../../../extension/lsp/commandResolver';
import type { ConfigKind } from '../../../extension/lsp/configKind';
import { validateConfig, type ValidationResult } from '../../../extension/lsp/validate';

/** Absolute path of `test/fixtures/configs`. */
export const CONFIGS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/configs');

/** A fixture (relative to test/fixtures/configs) with its kind taken from the name. */
export function configFixture(name: string): { file: string; text: string; kind: ConfigKind } {
  const file = path.join(CONFIGS, name);
  return { file, text: readFileSync(file, 'utf8'), kind: name.endsWith('.policy.yaml') ? 'policy' : 'registry' };
}

/** Validates the way the server does: once, then again after the PATH lookups it asked for. */
export async function validateFully(input: { file: string; text: string; kind: ConfigKind }, env: HostEnv): Promise<ValidationResult> {
  const resolver = new CommandResolver();
  const options = { env, commands: resolver.peek };
  const first = validateConfig(input, options);
  if (first.pendingCommands.length === 0) return first;
  await resolver.resolve(first.pendingCommands);
  return validateConfig(input, options);
}

/** An in-memory document with a registry-like URI. */
export function textDocument(text: string, uri = 'file:///w/.gatehouse/registry.yaml'): TextDocument {
  return TextDocument.create(uri, 'yaml', 1, text);
}

/** [line, character, endLine, endCharacter] of an LSP range, for compact assertions. */
export function rangeTuple(range: { start: { line: number; character: number }; end: { line: number; character: number } }): [number, number, number, number] {
  return [range.start.line, range.start.character, range.end.line, range.end.character];
}
