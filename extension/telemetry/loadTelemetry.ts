import type { Logger } from '../common/logger';
import { readTelemetryConfig } from './telemetryConfig';
import type { TelemetryRuntime } from './telemetryTypes';

/**
 * Starts OpenTelemetry export when the `OTEL_*` variables ask for it, else returns undefined
 * without loading anything. The SDK lives in its own bundle (`dist/telemetry.js`: the build
 * maps the import below to it and keeps it out of the gateway's bundles), so a gateway without
 * telemetry neither loads nor parses it.
 *
 * Never throws: a malformed variable or an SDK that fails to start is one warning, and the
 * gateway serves on without telemetry.
 */
export async function loadTelemetry(env: NodeJS.ProcessEnv, logger: Logger, version: string): Promise<TelemetryRuntime | undefined> {
  const decision = readTelemetryConfig(env);
  if (decision.kind === 'invalid') {
    logger.warn(`telemetry: off: ${decision.reason}`);
    return undefined;
  }
  if (decision.kind === 'off') return undefined;
  try {
    const { startTelemetry } = await import('./telemetryRuntime');
    const runtime = startTelemetry(decision.config, logger, version);
    // Endpoints only: header values (API keys) are never logged.
    const targets = Object.entries(decision.config.signals).map(([signal, s]) => `${signal} → ${s.url} (${s.protocol})`);
    logger.info(`telemetry: exporting ${targets.join(', ')}`);
    return runtime;
  } catch (err) {
    logger.warn(`telemetry: off: the OpenTelemetry SDK could not start: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}
