import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Logger } from '../../extension/common/logger';
import { GatewayService } from '../../extension/gateway/gatewayService';
import type { BenchProject } from './project';

/** A logger that keeps counts and the last lines, so a section can report what the gateway complained about. */
export class CountingLogger implements Logger {
  readonly counts = { trace: 0, debug: 0, info: 0, warn: 0, error: 0 };
  readonly recent: string[] = [];

  trace = (m: string): void => this.add('trace', m);
  debug = (m: string): void => this.add('debug', m);
  info = (m: string): void => this.add('info', m);
  warn = (m: string): void => this.add('warn', m);
  error = (m: string): void => this.add('error', m);

  /** Lines containing `text` among the recent ones. */
  matching(text: string): number {
    return this.recent.filter((l) => l.includes(text)).length;
  }

  /** Scanner budget overruns logged, and how many named no pattern (see clients.ts `Overruns`). */
  overruns(): { total: number; unattributed: number } {
    const lines = this.recent.filter((l) => l.includes('exceeded its'));
    return { total: lines.length, unattributed: lines.filter((l) => l.includes("pattern 'unknown'")).length };
  }

  private add(level: keyof CountingLogger['counts'], message: string): void {
    this.counts[level]++;
    if (level === 'warn' || level === 'error') {
      this.recent.push(`${level}: ${message}`);
      if (this.recent.length > 2000) this.recent.splice(0, 1000);
    }
  }
}

/** A GatewayService in this process with an MCP client over an in-memory transport pair. */
export interface InProcessGateway {
  service: GatewayService;
  client: Client;
  logger: CountingLogger;
  /** Closes the client, stops the service (children included) and disposes it. */
  close(): Promise<void>;
}

/**
 * Starts the gateway as the extension host does (GatewayService, no VS Code) and connects an
 * SDK client to one of its MCP servers through InMemoryTransport: no serialisation, so what is
 * measured is the gateway's own work on this thread.
 */
export async function startInProcess(project: BenchProject, options: { stateFile?: boolean } = {}): Promise<InProcessGateway> {
  const logger = new CountingLogger();
  const service = await GatewayService.start({ folder: project.folder, logger, stateFile: options.stateFile ?? true });
  const client = new Client({ name: 'gatehouse-bench', version: '1.0.0' }, { capabilities: {} });
  try {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await service.gateway.createServer().connect(serverSide);
    await client.connect(clientSide);
  } catch (err) {
    await service.stop();
    service.dispose();
    throw err;
  }
  return {
    service,
    client,
    logger,
    close: async () => {
      await client.close().catch(() => undefined);
      await service.stop();
      service.dispose();
    },
  };
}
