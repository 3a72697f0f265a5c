import type { MachineInfo } from './env';
import type { Stray } from './orphans';
import type { SectionResult, Table } from './section';

/** One section as the runner saw it. */
export interface SectionRun {
  result: SectionResult;
  /** Processes found under the bench root after the section exited (killed by the runner). */
  strays: Stray[];
  loadBefore: string;
  loadAfter: string;
}

export interface ReportInput {
  machine: MachineInfo;
  quick: boolean;
  build: string;
  runs: SectionRun[];
  totalSeconds: number;
  loadAtStart: string;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(t: Table): string {
  const lines = [`| ${t.columns.map(cell).join(' | ')} |`, `|${t.columns.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of t.rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return `${t.caption ? `${t.caption}:\n\n` : ''}${lines.join('\n')}\n`;
}

/** The whole results file: machine, budget summary, then every section's tables and notes. */
export function renderReport(input: ReportInput): string {
  const { machine, runs } = input;
  const out: string[] = [];
  out.push(`# Gatehouse benchmark results${input.quick ? ' (BENCH_QUICK smoke run — small samples, not comparable)' : ''}\n`);
  out.push(
    [
      `- Date: ${machine.date}`,
      `- Machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memoryGiB} GiB RAM, ${machine.platform}`,
      `- Node: ${machine.node}`,
      `- Commit: ${machine.commit}`,
      `- Build: ${input.build}`,
      `- Load average (1/5/15 min) at start: ${input.loadAtStart}`,
      `- Total time: ${input.totalSeconds.toFixed(0)} s`,
      '- Run with `npm run bench` (`BENCH_QUICK=1` for a smoke run, `BENCH_ONLY=overhead,audit` for some sections). Budgets: DESIGN.md §10.',
    ].join('\n') + '\n',
  );

  const checks = runs.flatMap((r) => r.result.checks.map((c) => ({ ...c, section: r.result.title })));
  const strays = runs.reduce((n, r) => n + r.strays.length, 0);
  out.push('## Budgets\n');
  out.push(
    table({
      columns: ['metric', 'measured', 'target', 'result'],
      rows: [
        ...checks.map((c) => [c.metric, c.measured, c.target, c.pass ? 'PASS' : '**MISS**']),
        ['processes left running after the sections', String(strays), '0', strays === 0 ? 'PASS' : '**MISS**'],
      ],
    }),
  );
  const misses = checks.filter((c) => !c.pass).length + (strays ? 1 : 0);
  out.push(`${checks.length + 1 - misses} of ${checks.length + 1} budgets met.${runs.some((r) => r.result.error) ? ' Some sections failed: see below.' : ''}\n`);

  for (const run of runs) {
    const r = run.result;
    out.push(`## ${r.title}\n`);
    out.push(`_${r.seconds} s; load average before / after: ${run.loadBefore} → ${run.loadAfter}_\n`);
    if (r.error) out.push(`**Section failed:**\n\n\`\`\`\n${r.error.slice(0, 4000)}\n\`\`\`\n`);
    for (const t of r.tables) out.push(table(t));
    for (const n of r.notes) out.push(`- ${n}`);
    if (run.strays.length) {
      out.push(`- **Left running after the section (killed by the runner):** ${run.strays.map((s) => `${s.pid} \`${s.command.slice(0, 160)}\``).join('; ')}`);
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
