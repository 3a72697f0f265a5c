/**
 * `gateway.telemetry` in policy.yaml (or gatehouse.yaml): OpenTelemetry export for people who do
 * not set the `OTEL_*` variables. The variables win key by key (telemetrySources.ts).
 *
 * The file is tracked, so it never holds a secret: a header value must reference an
 * environment variable (`Bearer ${HONEYCOMB_KEY}`), resolved when the gateway starts.
 */
import { z } from 'zod';
import { checkInterpolationSyntax, referencedNames } from './interpolate';
import { coded, type IssueParams } from './zodProblems';

/** HTTP header field names (RFC 9110 token). */
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const endpoint = z.string().superRefine((value, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  const fail = (message: string) => ctx.addIssue({ code: 'custom', message, params: { code: 'invalid-telemetry-endpoint' } satisfies IssueParams, input: value });
  if (!url) return fail(`telemetry endpoint '${value.slice(0, 80)}' is not a URL; write e.g. http://127.0.0.1:4318 (the collector's OTLP/HTTP port)`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(`telemetry endpoint must be http:// or https://, not ${url.protocol} (gRPC is not offered; use the collector's OTLP/HTTP port, 4318)`);
  if (url.username || url.password) return fail('telemetry endpoint must not carry credentials; put them in a header that references an environment variable');
});

const headerValue = z.string().superRefine((value, ctx) => {
  const syntax = checkInterpolationSyntax(value);
  if (syntax) {
    ctx.addIssue({ code: 'custom', message: syntax.message, params: { code: 'interpolation-syntax', span: { offset: syntax.offset, length: syntax.length } } satisfies IssueParams, input: value });
    return;
  }
  if (referencedNames(value).length === 0) {
    ctx.addIssue({
      code: 'custom',
      // The value is not repeated: it may be the very secret this rule keeps out of the file.
      message: 'a telemetry header value in a tracked file must reference an environment variable, e.g. "Bearer ${OTEL_API_KEY}"; set the secret in that variable (or in VS Code: Gatehouse: Set Telemetry Headers)',
      params: { code: 'telemetry-header-literal' } satisfies IssueParams,
      input: '',
    });
  }
});

export const telemetrySchema = z
  .strictObject({
    enabled: z.boolean().optional().describe('false: no export even when an endpoint is set (as OTEL_SDK_DISABLED=true). Default: on when an endpoint is set.'),
    endpoint: endpoint.optional().describe("Base URL of the OTLP/HTTP collector, e.g. http://127.0.0.1:4318 (as OTEL_EXPORTER_OTLP_ENDPOINT; '/v1/traces' etc. are appended)."),
    protocol: z.enum(['http/protobuf', 'http/json']).optional().describe('OTLP encoding: http/protobuf (default) or http/json (as OTEL_EXPORTER_OTLP_PROTOCOL).'),
    headers: z
      .record(
        z.string().regex(HEADER_NAME_PATTERN, { error: (iss) => coded('invalid-header-name', `'${String(iss.input)}' is not a valid HTTP header name`) }),
        headerValue,
      )
      .optional()
      .describe('Headers sent with every export; each value must reference an environment variable (`Bearer ${OTEL_API_KEY}`): a secret never belongs in this file.'),
    service_name: z.string().min(1).optional().describe("service.name of the exported data (as OTEL_SERVICE_NAME; default 'gatehouse')."),
    resource_attributes: z
      .record(z.string().min(1), z.string())
      .optional()
      .describe('Extra resource attributes, e.g. `team: platform` (as OTEL_RESOURCE_ATTRIBUTES).'),
  })
  .describe('OpenTelemetry export (OTLP/HTTP). The OTEL_* environment variables take precedence key by key; read when the gateway starts.');

export type TelemetryFileConfig = z.output<typeof telemetrySchema>;
