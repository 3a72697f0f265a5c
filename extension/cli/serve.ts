import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createLineLogger } from '../common/consoleLogger';
import { GatewayService } from '../gateway/gatewayService';
import { flag, type ParsedArgs } from './args';

/**
 * `gatehouse serve [--http [--port N]] [--folder F] [--dir D]`: the whole gateway without VS
 * Code. On stdio, stdout carries only JSON-RPC; every human line goes to stderr. Stops cleanly
 * (all children gone) on stdin EOF (stdio mode), SIGTERM, SIGINT and SIGHUP.
 */
export async function serve(args: ParsedArgs, version: string): Promise<number> {
  const logger = createLineLogger((l) => process.stderr.write(l), process.env.GATEHOUSE_LOG_LEVEL ?? 'info');
  const http = args.flags.has('http');
  const folder = flag(args, 'folder') ?? process.cwd();
  const service = await GatewayService.start({ folder, configDir: flag(args, 'dir'), logger, version });
  if (service.configStatus.problems.some((p) => p.severity === 'error') && !service.configStatus.usingLastGood) {
    logger.error(`the configuration in ${service.configDir} has errors; serving with no downstream servers until it is fixed`);
  }

  let stopping: Promise<void> | undefined;
  const shutdown = (why: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info(`${why}: stopping`);
      await service.stop();
      service.dispose();
    })();
    return stopping;
  };
  const done = new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.once(signal, () => void shutdown(signal).then(resolve));
    }
    if (!http) {
      process.stdin.once('end', () => void shutdown('stdin closed').then(resolve));
      process.stdin.once('close', () => void shutdown('stdin closed').then(resolve));
    }
  });

  if (http) {
    const port = Number(flag(args, 'port') ?? process.env.GATEHOUSE_PORT ?? 0);
    const endpoint = await service.startHttp(port);
    // The URL only: the token stays in the 0600 discovery file.
    process.stderr.write(`Gatehouse gateway listening on ${endpoint.url}\n`);
    process.stderr.write(`Token and URL for clients: ${service.configDir}/gateway.json (or run \`gatehouse bridge\`)\n`);
  } else {
    await service.gateway.createServer().connect(new StdioServerTransport());
    logger.info(`serving ${service.pool.serverNames().length} downstream servers on stdio (config: ${service.configDir})`);
  }
  await done;
  return 0;
}
