import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation';

/**
 * The SDK Client's JSON-schema validator, built at its first use instead of with the Client.
 *
 * `new Client()` otherwise builds an Ajv instance with every format (~0.8 ms of this thread and
 * a heap of short-lived garbage), and the pool builds one Client per (re)spawn: a server that
 * crash-loops paid it every ~500 ms for nothing. The gateway never asks a child's Client to
 * validate (tools are listed with a raw `tools/list` and called with a raw `request`, see
 * serverListings.ts); should the SDK ever validate (an output schema, an elicitation), this
 * Client gets its own Ajv exactly as before, only later. Not shared between Clients on
 * purpose: Ajv caches schemas by `$id` and by object, so one instance would mix servers'
 * schemas and keep every listing's schemas alive.
 */
export class LazySchemaValidator implements jsonSchemaValidator {
  private inner: AjvJsonSchemaValidator | undefined;

  /** Whether the Ajv instance was built (tests). */
  get built(): boolean {
    return this.inner !== undefined;
  }

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    this.inner ??= new AjvJsonSchemaValidator();
    return this.inner.getValidator<T>(schema);
  }
}
