import { interpolate } from '../config/interpolate';
import type { TelemetryFileConfig } from '../config/telemetrySchema';

/** The VS Code settings `gatehouse.telemetry.*`, as the host reads them (plus its SecretStorage entry). */
export interface TelemetrySettings {
  enabled?: boolean;
  endpoint?: string;
  protocol?: string;
  /** Values reference environment variables (`Bearer ${OTEL_API_KEY}`), as in policy.yaml. */
  headers?: Record<string, string>;
  /** `key=value,…` (the OTEL_EXPORTER_OTLP_HEADERS format) kept in VS Code's SecretStorage. */
  secretHeaders?: string;
  serviceName?: string;
  resourceAttributes?: Record<string, string>;
}

export type TelemetrySourceResult =
  | { kind: 'ok'; env: NodeJS.ProcessEnv; labels: Record<string, string> }
  | { kind: 'invalid'; reason: string };

const SETTING = (key: string) => `setting gatehouse.telemetry.${key}`;
const POLICY = (key: string) => `policy gateway.telemetry.${key}`;

/**
 * The `OTEL_*` variables the export is configured from, completed by the VS Code settings and
 * then policy.yaml's `gateway.telemetry` for every key the environment leaves unset:
 * environment > settings > policy.yaml, key by key (endpoint, protocol, headers, service name,
 * resource attributes, enabled). `labels` names where each filled-in variable came from, so a
 * bad value is reported under the name the user wrote.
 *
 * Header values are resolved here from `${NAME}` references to the gateway's environment; a
 * missing variable names the variable, never a value.
 */
export function telemetryEnv(hostEnv: NodeJS.ProcessEnv, settings: TelemetrySettings | undefined, file: TelemetryFileConfig | undefined): TelemetrySourceResult {
  const env: NodeJS.ProcessEnv = { ...hostEnv };
  const labels: Record<string, string> = {};
  const isSet = (name: string) => (hostEnv[name] ?? '').trim() !== '';
  const fill = (name: string, candidates: [string | undefined, string][]) => {
    if (isSet(name)) return;
    const found = candidates.find(([value]) => value !== undefined && value.trim() !== '');
    if (!found) return;
    env[name] = found[0];
    labels[name] = found[1];
  };
  try {
    const enabled = settings?.enabled ?? file?.enabled;
    if (enabled === false) fill('OTEL_SDK_DISABLED', [['true', settings?.enabled === false ? SETTING('enabled') : POLICY('enabled')]]);
    fill('OTEL_EXPORTER_OTLP_ENDPOINT', [
      [settings?.endpoint, SETTING('endpoint')],
      [file?.endpoint, POLICY('endpoint')],
    ]);
    fill('OTEL_EXPORTER_OTLP_PROTOCOL', [
      [settings?.protocol, SETTING('protocol')],
      [file?.protocol, POLICY('protocol')],
    ]);
    const settingHeaders = [settings?.secretHeaders?.trim(), referencedHeaders(settings?.headers, hostEnv, SETTING('headers'))].filter(Boolean).join(',');
    fill('OTEL_EXPORTER_OTLP_HEADERS', [
      [settingHeaders, settings?.secretHeaders?.trim() ? `${SETTING('headers')} or the headers in SecretStorage` : SETTING('headers')],
      [referencedHeaders(file?.headers, hostEnv, POLICY('headers')), POLICY('headers')],
    ]);
    fill('OTEL_SERVICE_NAME', [
      [settings?.serviceName, SETTING('serviceName')],
      [file?.service_name, POLICY('service_name')],
    ]);
    fill('OTEL_RESOURCE_ATTRIBUTES', [
      [keyValues(settings?.resourceAttributes), SETTING('resourceAttributes')],
      [keyValues(file?.resource_attributes), POLICY('resource_attributes')],
    ]);
  } catch (err) {
    if (err instanceof SourceError) return { kind: 'invalid', reason: err.message };
    throw err;
  }
  return { kind: 'ok', env, labels };
}

class SourceError extends Error {}

/** `${NAME}` references resolved, then written as OTEL_EXPORTER_OTLP_HEADERS (values percent-encoded). */
function referencedHeaders(headers: Record<string, string> | undefined, hostEnv: NodeJS.ProcessEnv, where: string): string | undefined {
  if (!headers) return undefined;
  const out: Record<string, string> = {};
  for (const [key, template] of Object.entries(headers)) {
    let resolved;
    try {
      resolved = interpolate(template, hostEnv);
    } catch {
      throw new SourceError(`${where}.${key}: malformed \${…} reference`);
    }
    if (resolved.missing.length > 0) throw new SourceError(`${where}.${key} references \${${resolved.missing[0]}}, which is not set in the gateway's environment`);
    // Settings are not validated by a schema: a literal value is refused here as in policy.yaml.
    if (resolved.value === template) throw new SourceError(`${where}.${key} must reference an environment variable (\${NAME}), not hold the value itself`);
    out[key] = resolved.value;
  }
  return keyValues(out);
}

function keyValues(record: Record<string, string> | undefined): string | undefined {
  if (!record || Object.keys(record).length === 0) return undefined;
  return Object.entries(record)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join(',');
}

/** Puts the user's own names (`setting gatehouse.telemetry.endpoint`) in place of the variables in a reason. */
export function relabel(reason: string, labels: Record<string, string>): string {
  let out = reason;
  for (const [name, label] of Object.entries(labels)) out = out.replace(new RegExp(`\\b${name}\\b`, 'g'), label);
  return out;
}
