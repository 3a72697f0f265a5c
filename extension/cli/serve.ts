import { createLineLogger } from '../common/consoleLogger';
import type { Logger } from '../common/logger';
import { GatewayService } from '../gateway/gatewayService';
import { UpstreamStdioTransport } from '../gateway/stdio/upstreamStdioTransport';
import { flag, type ParsedArgs } from './args';
import { BurstCollector } from './burstCollector';
import { applyGatewayHeapFlags } from './heapFlags';
import { YoungGenerationCap, youngGenerationGiven } from './youngGenerationCap';
import { onStopSignal } from '../platform/stopSignals';

/**
 * `gatehouse serve [--http [--port N]] [--profile NAME] [--metrics-port N] [--folder F] [--dir D]`: the whole
 * gateway without VS Code. On stdio, stdout carries only JSON-RPC; every human line goes to
 * stderr. Stops cleanly (all children gone) on stdin EOF (stdio mode), SIGTERM, SIGINT and SIGHUP;
 * on Windows on Ctrl-C, Ctrl-Break and closing the console (platform/stopSignals.ts).
 *
 * Environment: `GATEHOUSE_PORT` (HTTP port when --port is absent), `GATEHOUSE_METRICS_PORT`
 * (opt-in Prometheus endpoint on 127.0.0.1; 0 picks a free port, recorded in the state file),
 * `GATEHOUSE_LOG_LEVEL`. rea's names `REA_METRICS_PORT` and `REA_LOG_LEVEL` work too (SPEC
 * Appendix C); ours win when both are set.
 */
export async function serve(args: ParsedArgs, version: string): Promise<number> {
  // stderr carries human lines only: a reader that went away (EPIPE) must cost those lines, not
  // the gateway (unhandled, each failed write raised an uncaughtException that logged again).
  process.stderr.on('error', () => undefined);
  const level = readLogLevel(process.env);
  const logger = createLineLogger((l) => process.stderr.write(l), level.level);
  if (level.invalid) logger.warn(`ignoring ${level.invalid}: expected trace, debug, info, warn or error; logging at info`);
  logger.debug(`V8 heap flags: ${applyGatewayHeapFlags().join(' ') || 'as given by the user'}`);
  // Young generation capped at run time unless the user sized it (youngGenerationCap.ts).
  const youngGeneration = new YoungGenerationCap();
  if (!youngGenerationGiven()) youngGeneration.start();
  const http = args.flags.has('http');
  // A profile is one endpoint; over HTTP every profile is served at /mcp/<profile> at once.
  const profile = flag(args, 'profile');
  if (http && profile !== undefined) {
    logger.error('--profile applies to stdio; over HTTP every profile is served at /mcp/<profile>');
    return 1;
  }
  const folder = flag(args, 'folder') ?? process.cwd();
  const port = http ? parsePort(flag(args, 'port') ?? process.env.GATEHOUSE_PORT ?? '0') : 0;
  if (port === undefined) {
    logger.error(`invalid --port / GATEHOUSE_PORT: expected 0-65535`);
    return 1;
  }
  const metricsPort = readMetricsPort(metricsPortSource(flag(args, 'metrics-port'), process.env), logger);

  // Listen for the stop signals before anything is spawned: a signal during startup must still
  // stop the children (they live in their own process groups and would otherwise be orphaned).
  let wake: (why: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => (wake = resolve));
  onStopSignal(wake); // SIGTERM, SIGINT (Ctrl-C), SIGHUP (console closed), SIGBREAK (Ctrl-Break on Windows)

  const service = await GatewayService.start({ folder, configDir: flag(args, 'dir'), logger, version, metricsPort });
  const collector = new BurstCollector().start();
  let stopping: Promise<void> | undefined;
  const shutdown = (why: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info(`${why}: stopping`);
      collector.dispose();
      youngGeneration.dispose();
      await service.stop();
      service.dispose();
    })();
    return stopping;
  };
  // A bug must not leave children behind: stop them, then fail.
  const crash = (err: unknown) => {
    logger.error(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void shutdown('internal error').finally(() => process.exit(1));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  if (service.configStatus.problems.some((p) => p.severity === 'error') && !service.configStatus.usingLastGood) {
    logger.error(`the configuration in ${service.configDir} has errors; serving with no downstream servers until it is fixed`);
  }

  if (http) {
    let endpoint;
    try {
      endpoint = await service.startHttp(port);
    } catch (err) {
      logger.error(`could not listen on 127.0.0.1:${port}: ${err instanceof Error ? err.message : String(err)}`);
      await shutdown('startup failed');
      return 1;
    }
    // The URL only: the token stays in the 0600 discovery file.
    process.stderr.write(`Gatehouse gateway listening on ${endpoint.url}\n`);
    process.stderr.write(`Token and URL for clients: ${service.configDir}/gateway.json (or run \`gatehouse bridge\`)\n`);
  } else {
    if (profile !== undefined && !service.profileNames.includes(profile)) {
      logger.error(`no profile '${profile}' in ${service.configDir}/registry.yaml; profiles: ${service.profileNames.join(', ') || '(none)'}`);
      await shutdown('unknown profile');
      return 1;
    }
    const transport = new UpstreamStdioTransport();
    // stdout failing (EPIPE) closes the transport: the client is gone, stop as on stdin EOF.
    transport.onclose = () => wake('stdout closed');
    await service.gateway.createServer(profile).connect(transport);
    process.stdin.once('end', () => wake('stdin closed'));
    process.stdin.once('close', () => wake('stdin closed'));
    logger.info(`serving ${service.pool.serverNames().length} downstream servers on stdio (config: ${service.configDir})`);
  }
  await shutdown(await stopRequested);
  return 0;
}

function parsePort(text: string): number | undefined {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

/**
 * `GATEHOUSE_LOG_LEVEL`, else rea's `REA_LOG_LEVEL`; case-insensitive like rea. An unknown
 * value logs at info (rea's rule) and is reported, instead of silently logging everything.
 */
export function readLogLevel(env: NodeJS.ProcessEnv): { level: string; invalid?: string } {
  for (const name of ['GATEHOUSE_LOG_LEVEL', 'REA_LOG_LEVEL']) {
    const value = env[name]?.trim();
    if (!value) continue;
    const level = value.toLowerCase();
    return LOG_LEVELS.includes(level) ? { level } : { level: 'info', invalid: `${name}='${value}'` };
  }
  return { level: 'info' };
}

/** The metrics port's text and where it came from: the flag, then ours, then rea's variable. */
function metricsPortSource(fromFlag: string | undefined, env: NodeJS.ProcessEnv): { text: string | undefined; name: string } {
  if (fromFlag !== undefined) return { text: fromFlag, name: '--metrics-port' };
  if (env.GATEHOUSE_METRICS_PORT?.trim()) return { text: env.GATEHOUSE_METRICS_PORT, name: 'GATEHOUSE_METRICS_PORT' };
  return { text: env.REA_METRICS_PORT, name: 'REA_METRICS_PORT' };
}

/** Unset or empty: no metrics. Invalid: a warning and no metrics (never a silent listener elsewhere). */
function readMetricsPort(source: { text: string | undefined; name: string }, logger: Logger): number | undefined {
  const { text, name } = source;
  if (text === undefined || text.trim() === '') return undefined;
  const port = parsePort(text);
  if (port === undefined) logger.warn(`ignoring ${name} '${text}': expected 0-65535`);
  return port;
}
