import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { cliPath } from './lib/build';
import { call, textOf } from './lib/clients';
import { benchPolicy, fixture, makeProject } from './lib/project';
import { concurrent, sequential, waitFor } from './lib/load';
import { summarize } from './lib/stats';
async function main(): Promise<void> {
  const project = makeProject(`prof-stdio`, [{ name: 'echo', script: fixture('echo.mjs') }], benchPolicy());
  const pre = process.env.PROF ? ['--cpu-prof', `--cpu-prof-dir=/tmp/speed-prof/stdio`] : [];
  const transport = new StdioClientTransport({ command: process.execPath, args: [...pre, cliPath, 'serve'], cwd: project.folder, stderr: 'inherit' });
  const client = new Client({ name: 'p', version: '1' }, { capabilities: {} });
  await client.connect(transport);
  await waitFor('tools', async () => ((await client.listTools()).tools.some((t) => t.name === 'echo__echo') ? true : undefined));
  const echo = async (i: number) => { const r = await call(client, 'echo__echo', { text: `hello ${i}` }); return textOf(r) === `hello ${i}` ? undefined : 'bad'; };
  await sequential(300, echo);
  const seq = await sequential(Number(process.env.N ?? 3000), echo, 8000);
  const s = summarize(seq.latencies, seq.wallMs);
  const conc = await concurrent(5000, 16, echo, 5000);
  console.log('seq p50', s.p50.toFixed(3), 'n', seq.latencies.length, 'fail', seq.failures, 'conc/s', conc.perSecond.toFixed(0));
  await client.close();
  await new Promise((r) => setTimeout(r, 1500));
  process.exit(0);
}
void main();
