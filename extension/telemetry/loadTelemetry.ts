import type { Logger } from '../common/logger';
import type { TelemetryFileConfig } from '../config/telemetrySchema';
import { readTelemetryConfig } from './telemetryConfig';
import { relabel, telemetryEnv, type TelemetrySettings } from './telemetrySources';
import type { TelemetryRuntime } from './telemetryTypes';

/**
 * Starts OpenTelemetry export when the `OTEL_*` variables ask for it (completed by the VS Code
 * settings, then policy.yaml's `gateway.telemetry`, for what they leave unset), else returns undefined
 * without loading anything. The SDK lives in its own bundle (`dist/telemetry.js`: the build
 * maps the import below to it and keeps it out of the gateway's bundles), so a gateway without
 * telemetry neither loads nor parses it.
 *
 * Never throws: a malformed variable or an SDK that fails to start is one warning, and the
 * gateway serves on without telemetry.
 */
export async function loadTelemetry(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  version: string,
  sources: { settings?: TelemetrySettings; file?: TelemetryFileConfig } = {},
): Promise<TelemetryRuntime | undefined> {
  const sourced = telemetryEnv(env, sources.settings, sources.file);
  if (sourced.kind === 'invalid') {
    logger.warn(`telemetry: off: ${sourced.reason}`);
    return undefined;
  }
  const decision = readTelemetryConfig(sourced.env);
  if (decision.kind === 'invalid') {
    logger.warn(`telemetry: off: ${relabel(decision.reason, sourced.labels)}`);
    return undefined;
  }
  if (decision.kind === 'off') return undefined;
  try {
    const { startTelemetry } = await import('./telemetryRuntime');
    const runtime = startTelemetry(decision.config, logger, version);
    // Endpoints only: header values (API keys) are never logged.
    const targets = Object.entries(decision.config.signals).map(([signal, s]) => `${signal} → ${s.url} (${s.protocol})`);
    const from = Object.values(sourced.labels);
    logger.info(`telemetry: exporting ${targets.join(', ')}${from.length > 0 ? ` (from ${[...new Set(from)].join(', ')}; OTEL_* variables for the rest)` : ''}`);
    return runtime;
  } catch (err) {
    logger.warn(`telemetry: off: the OpenTelemetry SDK could not start: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}
