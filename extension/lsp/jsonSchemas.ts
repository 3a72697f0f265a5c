/**
 * JSON Schemas of registry.yaml and policy.yaml, generated from the zod schemas the gateway
 * validates with, for editors that do not run our language server (Red Hat's YAML extension
 * reads them through `contributes.yamlValidation`). `io: 'input'` describes what a user may
 * write (defaults optional, `version: 1` allowed), not what the loader returns.
 *
 * JSON Schema cannot say everything zod checks (duplicate names, secret-looking passthrough
 * names, `${VAR}` syntax, regex compilation); those stay language-server diagnostics. Draft 7,
 * because that is the draft every version of the YAML extension understands.
 */
import { z } from 'zod';
import { policySchema } from '../config/policySchema';
import { registrySchema } from '../config/registrySchema';
import type { ConfigKind } from './configKind';

/** File name of each generated schema, under the output directory. */
export const JSON_SCHEMA_FILES: Readonly<Record<ConfigKind, string>> = {
  registry: 'registry.schema.json',
  policy: 'policy.schema.json',
};

/** The JSON Schema of one config file. */
export function jsonSchemaFor(kind: ConfigKind): Record<string, unknown> {
  const schema = kind === 'registry' ? registrySchema : policySchema;
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>;
  const title = kind === 'registry' ? 'Gatehouse registry.yaml' : 'Gatehouse policy.yaml';
  return { ...json, title };
}
