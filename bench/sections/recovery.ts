/**
 * Section 2 — recovery from `kill -9` of a child. In-process (GatewayService + store events)
 * for the "store shows it dead" timing, which must not include any polling of ours; then the
 * same through `gatehouse serve` (stdio) with serve.state.json as the observer, which is what
 * `gatehouse status` and rea's tools see (debounced by design, so informational).
 *
 * Each round kills a child that is in the middle of a `write` call (echo fixture: appends its id
 * to COUNT_FILE, then sleeps delay_ms), so the round also checks that the gateway did not send
 * the write again after the respawn (DESIGN §3: no double execution of a write).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readState } from '../lib/stateFile';
import { call, openDirect, openStdioGateway, textOf } from '../lib/clients';
import { scaled } from '../lib/env';
import { startInProcess } from '../lib/inProcess';
import { sleep, waitFor } from '../lib/load';
import { benchPolicy, fixture, makeProject, type BenchProject } from '../lib/project';
import { progress, runSection, type SectionOutput } from '../lib/section';
import { fmt, max, median } from '../lib/stats';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

const ROUNDS = scaled(5, 1);
const CLI_ROUNDS = scaled(2, 1);
const FLOOR_SAMPLES = scaled(3, 1);
const WRITE_DELAY_MS = 3000;

interface Round {
  deadMs: number;
  /** When the store first showed the new attempt (`starting` after the crash): the supervisor's reaction. */
  respawnMs: number;
  readyMs: number;
  nextCallMs: number;
  /** Attempts the "next call" needed (1: it waited for the respawn and succeeded). */
  attempts: number;
  executions: number;
  writeAnswer: string;
}

function countFile(project: BenchProject): string {
  return path.join(project.folder, 'count.txt');
}

function project(label: string): BenchProject {
  return makeProject(label, (folder) => [{ name: 'echo', script: fixture('echo.mjs'), env: { COUNT_FILE: path.join(folder, 'count.txt') } }], benchPolicy());
}

function executions(p: BenchProject, id: string): number {
  try {
    return readFileSync(countFile(p), 'utf8').split('\n').filter((l) => l === id).length;
  } catch {
    return 0;
  }
}

/**
 * Starts a write that will still be running when the child dies; resolves once the child has
 * executed it, with the pending answer wrapped (an async function would flatten a bare promise
 * and wait for the answer itself).
 */
async function writeInFlight(client: Client, p: BenchProject, id: string): Promise<{ answer: Promise<string> }> {
  const answer = call(client, 'echo__write', { id, delay_ms: WRITE_DELAY_MS }).then(
    (r) => `${r.isError ? 'error' : 'ok'}: ${textOf(r).slice(0, 160)}`,
    (err: unknown) => `threw: ${String(err).slice(0, 160)}`,
  );
  await waitFor(`the write ${id} to reach the child`, () => (executions(p, id) > 0 ? true : undefined), 10_000, 2);
  return { answer };
}

/** Calls echo until it answers correctly; returns when, and how many attempts it took. */
async function nextCall(client: Client, t0: number): Promise<{ ms: number; attempts: number }> {
  for (let attempts = 1; ; attempts++) {
    const r = await call(client, 'echo__echo', { text: 'after' }).catch(() => undefined);
    if (r && !r.isError && textOf(r) === 'after') return { ms: performance.now() - t0, attempts };
    if (performance.now() - t0 > 30_000) throw new Error('no successful call within 30 s of the kill');
    await sleep(5);
  }
}

async function inProcessRound(round: number): Promise<Round> {
  const p = project(`recovery-${round}`);
  const gw = await startInProcess(p);
  try {
    await gw.client.listTools();
    const pid = Number(textOf(await call(gw.client, 'echo__pid', {})));
    const id = `write-${round}`;
    const { answer } = await writeInFlight(gw.client, p, id);
    let deadAt = 0;
    let respawnAt = 0;
    let readyAt = 0;
    // The store's own event, synchronously: the first revision where the child is no longer ready.
    const sub = gw.service.store.onDidChange((change) => {
      const d = change.snapshot.downstreams.find((v) => v.name === 'echo');
      if (!d) return;
      const now = performance.now();
      if (!deadAt && (d.state !== 'ready' || d.pid !== pid)) deadAt = now;
      if (deadAt && !respawnAt && d.state === 'starting') respawnAt = now;
      if (deadAt && !readyAt && d.state === 'ready' && d.pid !== null && d.pid !== pid) readyAt = now;
    });
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    const next = await nextCall(gw.client, t0);
    const writeAnswer = await answer;
    await waitFor('the respawned child in the store', () => (readyAt ? true : undefined), 30_000);
    sub.dispose();
    // Give a wrongly re-sent write time to land before counting.
    await sleep(300);
    return {
      deadMs: deadAt - t0,
      respawnMs: (respawnAt || Number.NaN) - t0,
      readyMs: readyAt - t0,
      nextCallMs: next.ms,
      attempts: next.attempts,
      executions: executions(p, id),
      writeAnswer,
    };
  } finally {
    await gw.close();
  }
}

async function cliRound(round: number): Promise<Round> {
  const p = project(`recovery-cli-${round}`);
  const ep = await openStdioGateway(p);
  try {
    await ep.client.listTools();
    const pid = Number(textOf(await call(ep.client, 'echo__pid', {})));
    await waitFor('serve.state.json with the child ready', () => (readState(p.configDir)?.find((d) => d.name === 'echo' && d.pid === pid && d.state === 'ready') ? true : undefined));
    const id = `write-cli-${round}`;
    const { answer } = await writeInFlight(ep.client, p, id);
    let deadAt = 0;
    let readyAt = 0;
    let watching = true;
    const t0 = performance.now();
    const watcher = (async () => {
      while (watching) {
        const d = readState(p.configDir)?.find((v) => v.name === 'echo');
        const now = performance.now();
        if (d && !deadAt && (d.state !== 'ready' || d.pid !== pid)) deadAt = now;
        if (d && deadAt && !readyAt && d.state === 'ready' && d.pid !== null && d.pid !== undefined && d.pid !== pid) readyAt = now;
        await sleep(2);
      }
    })();
    process.kill(pid, 'SIGKILL');
    const next = await nextCall(ep.client, t0);
    const writeAnswer = await answer;
    await waitFor('serve.state.json to show the respawned child', () => (readyAt ? true : undefined), 30_000);
    watching = false;
    await watcher;
    await sleep(300);
    // The file is debounced: it may skip the short `starting` state, so no respawn time here.
    return { deadMs: deadAt - t0, respawnMs: Number.NaN, readyMs: readyAt - t0, nextCallMs: next.ms, attempts: next.attempts, executions: executions(p, id), writeAnswer };
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${ep.stderr().slice(-2000)}`);
  } finally {
    await ep.close();
  }
}

/** The floor for "ready again": a fresh echo child, spawn → initialize → tools/list, no gateway. */
async function coldEcho(): Promise<number> {
  const p = makeProject('recovery-floor', [], benchPolicy());
  const t = performance.now();
  const ep = await openDirect(p);
  try {
    await ep.client.listTools();
    return performance.now() - t;
  } finally {
    await ep.close();
  }
}

async function body(out: SectionOutput): Promise<void> {
  const floor: number[] = [];
  for (let i = 0; i < FLOOR_SAMPLES; i++) floor.push(await coldEcho());
  const inProc: Round[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    progress(`recovery in-process round ${r}/${ROUNDS}`);
    inProc.push(await inProcessRound(r));
  }
  const cli: Round[] = [];
  for (let r = 1; r <= CLI_ROUNDS; r++) {
    progress(`recovery through gatehouse serve, round ${r}/${CLI_ROUNDS}`);
    cli.push(await cliRound(r));
  }
  const rows = out.table(['metric (SIGKILL of a child mid-write)', 'median', 'worst', 'target', 'result']);
  const stat = (list: Round[], get: (r: Round) => number): [number, number] => [median(list.map(get)), max(list.map(get))];
  const [deadMed, deadMax] = stat(inProc, (r) => r.deadMs);
  const [readyMed, readyMax] = stat(inProc, (r) => r.readyMs);
  const [nextMed, nextMax] = stat(inProc, (r) => r.nextCallMs);
  const execs = inProc.map((r) => r.executions);
  rows.push([
    `store shows it dead (in-process, ${ROUNDS} rounds)`,
    fmt(deadMed, 'ms'),
    fmt(deadMax, 'ms'),
    '≤ 100 ms (worst round)',
    out.check('kill -9 → store shows it dead', `${fmt(deadMax, 'ms')} worst`, '≤ 100 ms', deadMax <= 100),
  ]);
  const [respawnMed, respawnMax] = stat(inProc, (r) => r.respawnMs);
  rows.push(['store shows the respawn under way (`starting`)', fmt(respawnMed, 'ms'), fmt(respawnMax, 'ms'), '—', '—']);
  rows.push(['store shows it ready again (new pid; spawn + initialize + tools/list of the new child)', fmt(readyMed, 'ms'), fmt(readyMax, 'ms'), '—', '—']);
  rows.push([`floor: a fresh echo child started by the SDK client, spawn → tools/list (no gateway, ${FLOOR_SAMPLES} samples)`, fmt(median(floor), 'ms'), fmt(max(floor), 'ms'), '—', '—']);
  rows.push([
    'next call succeeds (sent right after the kill)',
    fmt(nextMed, 'ms'),
    fmt(nextMax, 'ms'),
    '≤ 1 s (worst round)',
    out.check('kill -9 → next call succeeds', `${fmt(nextMax, 'ms')} worst`, '≤ 1000 ms', nextMax <= 1000),
  ]);
  rows.push([
    'executions of the write that was in flight',
    execs.join(', '),
    String(Math.max(...execs)),
    'exactly 1 each',
    out.check('write in flight at the kill executed', execs.join(', '), 'exactly 1', execs.every((n) => n === 1)),
  ]);
  if (cli.length) {
    const [cDeadMed, cDeadMax] = stat(cli, (r) => r.deadMs);
    const [cReadyMed, cReadyMax] = stat(cli, (r) => r.readyMs);
    const [cNextMed, cNextMax] = stat(cli, (r) => r.nextCallMs);
    rows.push([`serve.state.json shows it dead (gatehouse serve, ${CLI_ROUNDS} rounds)`, fmt(cDeadMed, 'ms'), fmt(cDeadMax, 'ms'), '— (file debounced 250 ms by design)', '—']);
    rows.push(['serve.state.json shows it ready again', fmt(cReadyMed, 'ms'), fmt(cReadyMax, 'ms'), '—', '—']);
    rows.push([
      'next call succeeds through gatehouse serve',
      fmt(cNextMed, 'ms'),
      fmt(cNextMax, 'ms'),
      '≤ 1 s',
      out.check('kill -9 → next call succeeds (gatehouse serve)', `${fmt(cNextMax, 'ms')} worst`, '≤ 1000 ms', cNextMax <= 1000),
    ]);
    const cExecs = cli.map((r) => r.executions);
    rows.push([
      'executions of the write in flight (gatehouse serve)',
      cExecs.join(', '),
      String(Math.max(...cExecs)),
      'exactly 1 each',
      out.check('write in flight at the kill executed (gatehouse serve)', cExecs.join(', '), 'exactly 1', cExecs.every((n) => n === 1)),
    ]);
  }
  const all = [...inProc, ...cli];
  const retried = all.filter((r) => r.attempts > 1).length;
  out.note(
    `Each round: a fresh gateway with the echo fixture; a \`write\` (delay_ms ${WRITE_DELAY_MS}) is running in the child when it gets SIGKILL; ` +
      'an `echo` call is sent right after the kill and retried every 5 ms until it succeeds. ' +
      `The echo call needed more than one attempt in ${retried} of ${all.length} rounds (by design it waits for the respawn instead of failing).`,
  );
  out.note(`What the client got for the killed write: ${[...new Set(all.map((r) => r.writeAnswer.replace(/pid \d+/g, 'pid N')))].join(' | ')}`);
  out.note('A fresh gateway per round: the first crash after a ready run respawns at once; kills in quick succession would back off (500 ms, ×2) by design.');
}

runSection('recovery', '2. Recovery after kill -9 of a child', body);
