/**
 * Section 6 — prompts and resources through the gateway. The catalog fixture reached directly
 * over stdio (the baseline) and through `gatehouse serve` (stdio): `prompts/get` of a small
 * prompt and `resources/read` of a 256 KiB text resource, which the gateway caps, redacts and
 * scans like a tool result. Runs alternate (direct, gateway, …); medians over the rounds.
 * Informational: DESIGN §10 sets no budget for these yet.
 */
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { cliPath } from '../lib/build';
import { repoRoot, scaled } from '../lib/env';
import { sequential, waitFor } from '../lib/load';
import { benchPolicy, fixture, makeProject } from '../lib/project';
import { progress, runSection, type SectionOutput } from '../lib/section';
import { fmt, median, summarize } from '../lib/stats';

const ROUNDS = scaled(3, 1);
const PROMPTS = scaled(500, 50);
const READS = scaled(60, 8);
const MAX_MS = scaled(4000, 700);
const BIG = 256 * 1024;
const ENV = { TAG: 'cat', BIG_BYTES: String(BIG) };

type Mode = 'direct' | 'gateway';

interface Sample {
  promptP50: number;
  readP50: number;
  problems: string[];
}

function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GATEHOUSE_')) env[k] = v;
  return env;
}

async function measure(mode: Mode): Promise<Sample> {
  const project = makeProject(`protocol-${mode}`, [{ name: 'cat', script: fixture('catalog.mjs'), env: ENV }], benchPolicy());
  const transport =
    mode === 'direct'
      ? new StdioClientTransport({ command: process.execPath, args: [path.join(repoRoot, fixture('catalog.mjs'))], cwd: project.folder, env: { ...childEnv(), ...ENV }, stderr: 'ignore' })
      : new StdioClientTransport({ command: process.execPath, args: [cliPath, 'serve'], cwd: project.folder, env: childEnv(), stderr: 'ignore' });
  const client = new Client({ name: 'gatehouse-bench', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  const prompt = mode === 'direct' ? 'greet' : 'cat__greet';
  const problems: string[] = [];
  try {
    await waitFor('the prompt listed', async () => ((await client.listPrompts()).prompts.some((p) => p.name === prompt) ? true : undefined));
    const prompts = await sequential(
      PROMPTS,
      async () => {
        const r = await client.getPrompt({ name: prompt, arguments: { name: 'bench' } });
        return r.messages.length === 2 ? undefined : `prompt: ${r.messages.length} messages`;
      },
      MAX_MS,
    );
    const reads = await sequential(
      READS,
      async () => {
        const r = await client.readResource({ uri: 'secret://cat/big' });
        const text = (r.contents[0] as { text?: string } | undefined)?.text ?? '';
        return text.length === BIG ? undefined : `read: ${text.length} characters`;
      },
      MAX_MS,
    );
    for (const [label, run] of [['prompts/get', prompts], ['resources/read', reads]] as const) {
      if (run.failures) problems.push(`${label}: ${run.failures} failed (first: ${run.firstFailure})`);
    }
    return {
      promptP50: summarize(prompts.latencies, prompts.wallMs).p50,
      readP50: summarize(reads.latencies, reads.wallMs).p50,
      problems,
    };
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function body(out: SectionOutput): Promise<void> {
  const runs: Record<Mode, Sample[]> = { direct: [], gateway: [] };
  const notes: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of ['direct', 'gateway'] as const) {
      progress(`protocol round ${round}/${ROUNDS}: ${mode}`);
      const s = await measure(mode);
      runs[mode].push(s);
      for (const p of s.problems) notes.push(`round ${round} ${mode}: ${p}`);
    }
    out.reset();
    const rows = out.table(['metric', 'direct', 'gateway stdio', 'gateway / direct']);
    for (const [label, get] of [
      ['prompts/get p50', (s: Sample) => s.promptP50],
      ['resources/read 256 KiB p50', (s: Sample) => s.readP50],
    ] as const) {
      const d = median(runs.direct.map(get));
      const g = median(runs.gateway.map(get));
      rows.push([label, fmt(d, 'ms'), fmt(g, 'ms'), `${(g / d).toFixed(2)}×`]);
    }
    for (const n of notes) out.note(n);
    out.note(
      `${round} of ${ROUNDS} rounds; ${PROMPTS} prompts/get and ${READS} resources/read per run, sequential, every answer checked. ` +
        'Full chain at its defaults: the read is audited, HALT-probed, blocked-path checked, capped, redacted and scanned for injection; ' +
        'policy raises gateway.result_max_bytes to 4 MiB so the 256 KiB resource passes whole.',
    );
    out.save();
  }
}

runSection('protocol', '6. Prompts and resources: direct vs gateway', body);
