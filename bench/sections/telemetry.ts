/**
 * Section 8 — what OpenTelemetry export costs a call (issue 17: "a collector that is down or
 * slow costs nothing on the call path"). The echo tool through `gatehouse serve` (stdio) with
 * export off (the baseline), with a live collector, with a dead endpoint (a closed port: every
 * export is refused) and with a slow collector (a receiver that holds each answer for
 * {@link SLOW_MS} ms, longer than the batch delay, so exports pile up against the bounded queue).
 * Runs alternate mode by mode for several rounds; medians, as ratios to "off" measured in the
 * same run. The drop counts come from serve.state.json (what `gatehouse status` shows).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { call, openStdioGateway, textOf } from '../lib/clients';
import { scaled } from '../lib/env';
import { sequential, waitFor } from '../lib/load';
import { benchPolicy, fixture, makeProject } from '../lib/project';
import { progress, runSection, type SectionOutput } from '../lib/section';
import { fmt, median, summarize } from '../lib/stats';

const ROUNDS = scaled(3, 1);
const CALLS = scaled(1500, 150);
const MAX_MS = scaled(20_000, 4000);
/** How long the slow receiver holds each export request before answering. */
const SLOW_MS = 3000;

type Mode = 'off' | 'live' | 'dead' | 'slow';
const MODES: readonly Mode[] = ['off', 'live', 'dead', 'slow'];

interface Sample {
  p50: number;
  p95: number;
  perSecond: number;
  exported: number;
  dropped: number;
  problems: string[];
}

/** An OTLP/HTTP endpoint that answers 200 to everything, after `delayMs`. */
async function receiver(delayMs: number): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      const answer = () => {
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' });
        res.end();
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on: bound, read, released. */
async function deadEndpoint(): Promise<string> {
  const r = await receiver(0);
  await r.close();
  return r.url;
}

function telemetryCounts(configDir: string): { exported: number; dropped: number } {
  try {
    const state = JSON.parse(readFileSync(path.join(configDir, 'serve.state.json'), 'utf8')) as {
      gatehouse?: { telemetry?: { spans: { exported: number; dropped: number }; logs: { exported: number; dropped: number } } | null };
    };
    const t = state.gatehouse?.telemetry;
    return t ? { exported: t.spans.exported + t.logs.exported, dropped: t.spans.dropped + t.logs.dropped } : { exported: 0, dropped: 0 };
  } catch {
    return { exported: 0, dropped: 0 };
  }
}

async function measure(mode: Mode): Promise<Sample> {
  const slow = mode === 'slow' ? await receiver(SLOW_MS) : undefined;
  const live = mode === 'live' ? await receiver(0) : undefined;
  const endpoint = mode === 'dead' ? await deadEndpoint() : (slow ?? live)?.url;
  // A fast heartbeat so the state file holds the counts of the whole run when it is read.
  const project = makeProject(`telemetry-${mode}`, [{ name: 'echo', script: fixture('echo.mjs') }], benchPolicy({ gateway: { state: { heartbeat_ms: 200 } } }));
  const env: Record<string, string> = endpoint
    ? {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        // 1 s batch delays (defaults 5 s / 1 s) so several exports run during the measured calls.
        OTEL_BSP_SCHEDULE_DELAY: '1000',
        OTEL_BLRP_SCHEDULE_DELAY: '1000',
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
        OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
      }
    : {};
  const gw = await openStdioGateway(project, env);
  const problems: string[] = [];
  try {
    await waitFor('echo listed', async () => ((await gw.client.listTools()).tools.some((t) => t.name === 'echo__echo') ? true : undefined));
    const run = await sequential(
      CALLS,
      async (i) => {
        const text = textOf(await call(gw.client, 'echo__echo', { text: `t${i}` }));
        return text === `t${i}` ? undefined : `echo answered '${text.slice(0, 40)}'`;
      },
      MAX_MS,
    );
    if (run.failures) problems.push(`${run.failures} calls failed (first: ${run.firstFailure})`);
    if (run.latencies.length < CALLS) problems.push(`only ${run.latencies.length} of ${CALLS} calls within ${MAX_MS} ms`);
    // Let a last heartbeat carry the counts (not timed: the calls are over).
    await new Promise((r) => setTimeout(r, 600));
    const counts = telemetryCounts(project.configDir);
    const s = summarize(run.latencies, run.wallMs);
    return { p50: s.p50, p95: s.p95, perSecond: (run.latencies.length / run.wallMs) * 1000, ...counts, problems };
  } finally {
    await gw.close().catch(() => undefined);
    await slow?.close();
    await live?.close();
  }
}

async function body(out: SectionOutput): Promise<void> {
  const runs: Record<Mode, Sample[]> = { off: [], live: [], dead: [], slow: [] };
  const notes: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of MODES) {
      progress(`telemetry round ${round}/${ROUNDS}: ${mode}`);
      const s = await measure(mode);
      runs[mode].push(s);
      for (const p of s.problems) notes.push(`round ${round} ${mode}: ${p}`);
    }
    out.reset();
    const rows = out.table(['telemetry', 'p50', 'p95', 'calls/s', 'p50 / off', 'p95 / off', 'exported (spans + audit)', 'dropped']);
    const base = { p50: median(runs.off.map((s) => s.p50)), p95: median(runs.off.map((s) => s.p95)) };
    const label: Record<Mode, string> = {
      off: 'off (no endpoint)',
      live: 'live collector',
      dead: 'dead endpoint (connection refused)',
      slow: `slow collector (answers after ${SLOW_MS / 1000} s)`,
    };
    for (const mode of MODES) {
      const r = runs[mode];
      const p50 = median(r.map((s) => s.p50));
      const p95 = median(r.map((s) => s.p95));
      rows.push([
        label[mode],
        fmt(p50, 'ms'),
        fmt(p95, 'ms'),
        median(r.map((s) => s.perSecond)).toFixed(0),
        `${(p50 / base.p50).toFixed(2)}×`,
        `${(p95 / base.p95).toFixed(2)}×`,
        mode === 'off' ? '—' : String(median(r.map((s) => s.exported))),
        mode === 'off' ? '—' : String(median(r.map((s) => s.dropped))),
      ]);
    }
    for (const n of notes) out.note(n);
    out.note(
      `${round} of ${ROUNDS} rounds; ${CALLS} sequential echo calls per run through gatehouse serve (stdio), full chain at its defaults, every answer checked. ` +
        'Export with OTEL_BSP/BLRP_SCHEDULE_DELAY=1 s, OTEL_METRIC_EXPORT_INTERVAL=1 s, OTEL_EXPORTER_OTLP_TIMEOUT=2 s, http/protobuf; ' +
        'exported and dropped are spans plus audit log records, from serve.state.json after the run (as gatehouse status shows them). ' +
        'Ratios near 1.00× for dead and slow are the claim: export happens off the call path, and its loss is counted, not waited for.',
    );
    out.save();
  }
}

runSection('telemetry', '8. OpenTelemetry export: off vs live, dead and slow collectors', body);
