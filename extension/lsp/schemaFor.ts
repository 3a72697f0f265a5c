import type { z } from 'zod';
import { policySchema } from '../config/policySchema';
import { registrySchema } from '../config/registrySchema';
import type { ConfigKind } from './configKind';

/** The zod schema the gateway validates a config file of `kind` with. */
export function schemaFor(kind: ConfigKind): z.ZodType {
  return kind === 'registry' ? registrySchema : policySchema;
}
