/**
 * What the zod schema says about the value at a path, beyond its description: the values it
 * allows (for enum completion and hover), its default, and a short type word. Read from the
 * same schema objects the loader validates with, so completion can never offer a value the
 * gateway then rejects. `config/schemaNode.ts` finds the schema at a path; this file reads it.
 */
import type { z } from 'zod';
import { schemaAt } from '../config/schemaNode';
import type { YamlPath } from '../config/yamlDocument';

/** The subset of zod 4's `_zod.def` read here. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, string | number>;
  values?: unknown[];
  defaultValue?: unknown;
}

const defOf = (schema: z.ZodType): Def => schema._zod.def as unknown as Def;

/** A scalar the schema accepts verbatim. */
export type SchemaLiteral = string | number | boolean;

/** See the module comment. */
export interface ValueInfo {
  /** Every literal the value may take; empty when it is open (any string, any number…). */
  values: SchemaLiteral[];
  /** The default zod fills in when the key is absent, if any. */
  defaultValue?: unknown;
  /** 'string', 'list', 'mapping', 'whole number'… joined with ' or ' for unions; '' when unknown. */
  type: string;
}

/** Describes the value at `path`; `values` is empty and `type` '' when the path leaves the schema. */
export function valueInfoAt(schema: z.ZodType, path: YamlPath): ValueInfo {
  const info: ValueInfo = { values: [], type: '' };
  const types: string[] = [];
  const visit = (candidate: z.ZodType, depth: number): void => {
    if (depth > 32) return;
    const def = defOf(candidate);
    if (def.type === 'default' && info.defaultValue === undefined) info.defaultValue = def.defaultValue;
    if (def.innerType) return visit(def.innerType, depth + 1);
    if (def.type === 'pipe' && def.in) return visit(def.in, depth + 1);
    if (def.type === 'union' && def.options) {
      for (const option of def.options) visit(option, depth + 1);
      return;
    }
    if (def.type === 'enum' && def.entries) addValues(info.values, Object.values(def.entries));
    if (def.type === 'literal' && def.values) addValues(info.values, def.values.filter(isLiteral));
    if (def.type === 'boolean') addValues(info.values, [true, false]);
    const word = TYPE_WORDS[def.type];
    if (word && !types.includes(word)) types.push(word);
  };
  for (const candidate of schemaAt(schema, path)) visit(candidate, 0);
  info.type = types.join(' or ');
  return info;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'string',
  number: 'number',
  int: 'whole number',
  boolean: 'boolean',
  array: 'list',
  object: 'mapping',
  record: 'mapping',
  enum: 'string',
  literal: 'literal',
};

function isLiteral(value: unknown): value is SchemaLiteral {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function addValues(into: SchemaLiteral[], values: readonly SchemaLiteral[]): void {
  for (const value of values) if (!into.includes(value)) into.push(value);
}
