/**
 * CPU time the governance chain spends per echo call, in this process: the running
 * Governance's own layers (audit, HALT, tier, policy, blocked paths, …, redaction, injection)
 * with the dispatcher replaced by one that answers like the echo server, so neither the pool,
 * the child nor a transport is measured. The audit log is a stand-in that builds each record's
 * input (what the audit layer hands over) and writes nothing: the writer has its own measure.
 * `process.cpuUsage()` around the run counts work, not wall time, so it holds on a loaded machine.
 *
 * `node --import tsx bench/tools/chainCpu.ts [calls] [inFlight]` (default 20000 16, then the
 * same number sequentially); `CHAIN_MODE=mcp` also goes through the SDK `Server` of
 * `Gateway.createServer` over an in-memory transport (client included in the figure);
 * `--cpu-prof` on the node command line profiles it. Needs `GATEHOUSE_BENCH_ROOT`.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { nullLogger } from '../../extension/common/logger';
import type { AuditInput } from '../../extension/gateway/audit/auditRecord';
import { auditLayer } from '../../extension/gateway/chain/auditLayer';
import type { Middleware } from '../../extension/gateway/chain/chain';
import { Gateway } from '../../extension/gateway/gateway';
import { createSyncRedactor } from '../../extension/gateway/scanner/syncRedactor';
import { startInProcess } from '../lib/inProcess';
import { concurrent, sequential } from '../lib/load';
import { benchPolicy, fixture, makeProject } from '../lib/project';

const calls = Number(process.argv[2] ?? 20000);
const inFlight = Number(process.argv[3] ?? 16);
const mode = process.env.CHAIN_MODE ?? 'chain';

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function main(): Promise<void> {
  const gw = await startInProcess(makeProject('chaincpu', [{ name: 'echo', script: fixture('echo.mjs') }], benchPolicy()), { stateFile: false });
  try {
    await gw.client.listTools();
    const governance = gw.service.governance;
    const all = governance.layers();
    let built = 0;
    const log = {
      append: (input: AuditInput) => Promise.resolve({ ...input } as never),
      appendLater: (build: () => AuditInput) => {
        build();
        built++;
        return Promise.resolve({} as never);
      },
      backlog: 0,
    };
    const audit = auditLayer(log, { autonomyLevel: () => 'L1', redactError: (t) => governance.redactText(t), redactInline: createSyncRedactor() });
    const echo: Middleware = async (ctx) => {
      if (ctx.status !== 'allowed') return;
      ctx.result = { content: [{ type: 'text', text: `echo: ${String(ctx.arguments.text)}` }] } as CallToolResult;
    };
    const layers = [audit, ...all.slice(1, -1), echo];
    const gateway = new Gateway({ pool: gw.service.pool, sessionId: gw.service.sessionId, layers, snapshot: () => gw.service.store.snapshot, logger: nullLogger });
    let one: (i: number) => Promise<string | undefined>;
    if (mode === 'mcp') {
      const client = new Client({ name: 'chaincpu', version: '1' });
      const [a, b] = InMemoryTransport.createLinkedPair();
      await gateway.createServer().connect(b);
      await client.connect(a);
      one = async (i) => {
        const r = (await client.callTool({ name: 'echo__echo', arguments: { text: `call ${i}` } })) as CallToolResult;
        const t = r.content[0]?.type === 'text' ? r.content[0].text : '';
        return !r.isError && t === `echo: call ${i}` ? undefined : t;
      };
    } else {
      one = async (i) => {
        const r = await gateway.callTool('echo__echo', { text: `call ${i}` });
        const t = r.content[0]?.type === 'text' ? r.content[0].text : '';
        return !r.isError && t === `echo: call ${i}` ? undefined : t;
      };
    }
    await concurrent(2000, inFlight, one);
    await sequential(1000, one);
    const c0 = cpuUs();
    const conc = await concurrent(calls, inFlight, one);
    const c1 = cpuUs();
    const seq = await sequential(calls, one);
    const c2 = cpuUs();
    console.log(
      `${mode}: ${inFlight} in flight ${((c1 - c0) / calls).toFixed(1)} µs CPU/call (failures ${conc.failures}${conc.firstFailure ? `: ${conc.firstFailure}` : ''}); ` +
        `sequential ${((c2 - c1) / calls).toFixed(1)} µs CPU/call (failures ${seq.failures}); records built ${built}`,
    );
  } finally {
    await gw.close();
  }
}

void main();
