/**
 * Walks a zod schema along a config path. Used to list the allowed keys when a key is unknown
 * (so the message can suggest the intended one) and, later, by the language server for hover
 * text (`.describe()`) and completion at a cursor position.
 */
import type { z } from 'zod';

/** The subset of zod's internal definition we read; zod 4 keeps it on `schema._zod.def`. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
}

function defOf(schema: z.ZodType): Def {
  return schema._zod.def as unknown as Def;
}

/** Strips wrappers that do not change the shape of the value (optional, default, pipe…). */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let guard = 0; guard < 32; guard++) {
    const def = defOf(current);
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
  return current;
}

/**
 * The schemas that describe the value at `path` (several when a union is on the way).
 * Returns an empty list when the path leaves the schema.
 */
export function schemaAt(schema: z.ZodType, path: readonly (string | number)[]): z.ZodType[] {
  let current: z.ZodType[] = [schema];
  for (const segment of path) {
    const next: z.ZodType[] = [];
    for (const candidate of current.flatMap(expandUnion)) {
      const def = defOf(candidate);
      if (def.type === 'object' && def.shape && typeof segment === 'string') {
        const child = def.shape[segment];
        if (child) next.push(child);
      } else if (def.type === 'array' && def.element && typeof segment === 'number') {
        next.push(def.element);
      } else if (def.type === 'record' && def.valueType) {
        next.push(def.valueType);
      }
    }
    current = next;
  }
  return current;
}

/** The keys an object schema at `path` accepts (empty when it is not an object). */
export function allowedKeys(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  const keys: string[] = [];
  for (const candidate of schemaAt(schema, path).flatMap(expandUnion)) {
    const def = defOf(candidate);
    if (def.type === 'object' && def.shape) for (const key of Object.keys(def.shape)) if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

/** The `.describe()` text of the field at `path`, if any (hover docs). */
export function describeAt(schema: z.ZodType, path: readonly (string | number)[]): string | undefined {
  for (const candidate of schemaAt(schema, path)) {
    let current: z.ZodType | undefined = candidate;
    // The description may sit on any wrapper layer; look outside-in.
    for (let guard = 0; current && guard < 32; guard++) {
      if (current.description) return current.description;
      const def: Def = defOf(current);
      current = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    }
  }
  return undefined;
}

function expandUnion(schema: z.ZodType): z.ZodType[] {
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (def.type === 'union' && def.options) return def.options.flatMap(expandUnion);
  return [inner];
}
