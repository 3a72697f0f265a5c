/**
 * The secret corpus through the gateway (issue 13 items 1–3): every sample, sent by the client as
 * argument values and keys, returned by the server as result text, result keys and tool
 * descriptions, used as a tool name, a server name and a blocked argument's key, and printed by a
 * crashing server — and none of it reaches the child, the client, audit.jsonl, serve.state.json,
 * a log line (through the built `gatehouse serve`) or the dashboard's model (in process, as the
 * extension host runs it).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Emitter } from '../../extension/common/event';
import type { Logger } from '../../extension/common/logger';
import { GatewayService } from '../../extension/gateway/gatewayService';
import { DashboardModel } from '../../extension/host/panel/dashboardModel';
import { gatewayServiceSource } from '../../extension/host/panel/gatewayServiceSource';
import { secretCorpus, type SecretSample } from '../fixtures/secrets/secretCorpus';
import { tempDir } from '../helpers/fixtures';
import { readState, stdioClient, stopAllCli, type StdioSession } from '../helpers/gatewayProcess';
import { makeProject } from '../helpers/gatewayProject';
import { until } from '../helpers/poll';

const sessions: StdioSession[] = [];
after(async () => {
  await Promise.all(sessions.map((s) => s.client.close().catch(() => undefined)));
  await stopAllCli();
});

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** A project whose servers echo the corpus back: a recorder and a server that dies printing secrets. */
function corpusProject(samples: SecretSample[]) {
  const byFormat = (prefix: string): SecretSample => samples.find((s) => s.format.startsWith(prefix))!;
  const tokens = {
    ghp: byFormat('GitHub token (ghp_)').secrets[0]!,
    gho: byFormat('GitHub token (gho_)').secrets[0]!,
    ghs: byFormat('GitHub token (ghs_)').secrets[0]!,
    npm: byFormat('npm token').secrets[0]!,
    slack: byFormat('Slack bot token').secrets[0]!,
  };
  const work = tempDir('gatehouse-secrets-');
  const recordFile = path.join(work, 'received.jsonl');
  const playFile = path.join(work, 'play.json');
  writeFileSync(
    playFile,
    JSON.stringify({
      // The server echoes secrets into its listing and its answers.
      description: `Configured with ${byFormat('Stripe key (sk_live_)').text} and ${byFormat('private key (OPENSSH').text}`,
      properties: { [tokens.npm]: { type: 'string', description: byFormat('JWT').text } },
      toolName: tokens.ghs,
      result: samples.map((s) => s.text).join('\n\n'),
      structured: Object.fromEntries(samples.slice(0, 20).map((s, i) => [s.text, samples[samples.length - 1 - i]!.text])),
    }),
  );
  const crashText = `fatal: ${byFormat('postgres').text} ${tokens.slack}`;
  const project = makeProject(
    [
      { name: 'rec', fixture: 'recorder.mjs', env: { RECORD_FILE: recordFile, PLAY_FILE: playFile } },
      { name: 'crashy', args: ['-e', "process.stderr.write(process.env.CRASH_TEXT + '\\n'); process.exit(3)"], env: { CRASH_TEXT: crashText } },
    ],
    { autonomy_level: 'L2', blocked_paths: ['.env'] },
  );
  return { project, recordFile, tokens };
}

/** Sends every sample every way a client can; returns what the client saw. */
async function exercise(client: Client, samples: SecretSample[], tokens: ReturnType<typeof corpusProject>['tokens']): Promise<unknown[]> {
  const seenByClient: unknown[] = [];
  const tools = await until('rec listed', async () => {
    const listed = (await client.listTools()).tools;
    return listed.some((t) => t.name === 'rec__record') ? listed : undefined;
  }, 30_000, 50);
  seenByClient.push(tools);
  assert.ok(!tools.some((t) => t.name.startsWith('rec__gh')), 'a tool named by a secret is not listed');
  assert.match(tools.find((t) => t.name === 'rec__record')?.description ?? '', /Configured with .*\[REDACTED:.*\[REDACTED:Private Key\]/s, 'descriptions are redacted, not dropped');

  // 1. Every sample as an argument value, as an argument key, and inside JSON text.
  const values = Object.fromEntries(samples.map((s, i) => [`v${i}`, s.text]));
  const keys = Object.fromEntries(samples.map((s, i) => [s.text, i]));
  const sent = await client.callTool({ name: 'rec__record', arguments: { values, keys, json: JSON.stringify(values) } });
  seenByClient.push(sent);
  assert.notEqual(sent.isError, true, JSON.stringify(sent).slice(0, 500));
  // 2. The server answers with every sample, as text and as structuredContent keys and values.
  seenByClient.push(await client.callTool({ name: 'rec__play', arguments: {} }));
  // 3. A tool name, a server name and a blocked argument's key that hold secrets.
  const byName = await client.callTool({ name: `rec__${tokens.ghp}`, arguments: {} });
  seenByClient.push(byName);
  assert.equal(byName.isError, true);
  seenByClient.push(await client.callTool({ name: `rec__${tokens.ghs}`, arguments: {} }));
  seenByClient.push(await client.callTool({ name: `${tokens.gho}__x`, arguments: {} }));
  const blocked = await client.callTool({ name: 'rec__record', arguments: { [tokens.gho]: '.env' } });
  seenByClient.push(blocked);
  assert.equal(blocked.isError, true);
  return seenByClient;
}

/** Every place where a sample (or one of the named tokens) was found. */
function leaksIn(places: Record<string, string>, samples: SecretSample[], tokens: Record<string, string>): string[] {
  const leaks: string[] = [];
  for (const s of samples) {
    for (const secret of s.secrets) {
      const forms = [secret, JSON.stringify(secret).slice(1, -1)];
      for (const [where, text] of Object.entries(places)) if (forms.some((f) => text.includes(f))) leaks.push(`${s.format} → ${where}`);
    }
  }
  for (const [where, text] of Object.entries(places)) {
    for (const token of Object.values(tokens)) if (text.includes(token)) leaks.push(`${token.slice(0, 4)}… → ${where}`);
  }
  return [...new Set(leaks)];
}

describe('the secret corpus through the gateway', () => {
  test('`gatehouse serve`: no secret reaches the child, the client, audit.jsonl, serve.state.json or a log line', async () => {
    const samples = secretCorpus();
    const { project, recordFile, tokens } = corpusProject(samples);
    const session = await stdioClient(project.folder, { GATEHOUSE_LOG_LEVEL: 'debug' });
    sessions.push(session);
    const seenByClient = await exercise(session.client, samples, tokens);

    const received = read(recordFile);
    assert.match(received, /\[REDACTED:/, 'the child received the redacted call');
    assert.equal(received.trim().split('\n').length, 2, 'only record and play reached the child');
    const auditFile = path.join(project.configDir, 'audit.jsonl');
    await until('every call audited', () => read(auditFile).split('\n').filter((l) => l.includes('"emission_source":"proxy"')).length >= 6);
    await until('the crash in the state file', () => readState(project.configDir)?.downstreams?.some((d) => d.name === 'crashy' && d.last_error) ?? false);
    const state = read(path.join(project.configDir, 'serve.state.json'));
    assert.match(state, /REDACTED/, 'last_error kept, redacted');
    await session.client.close();
    await until('gateway exited', () => !isAlive(session.pid), 15_000);

    const places: Record<string, string> = {
      child: received,
      client: JSON.stringify(seenByClient),
      'audit.jsonl': read(auditFile),
      'serve.state.json': state,
      'log lines': session.stderr(),
    };
    assert.match(places['log lines']!, /withheld from the list: its name holds a secret/);
    assert.deepEqual(leaksIn(places, samples, tokens), []);
  });

  test('in process, as the extension host runs it: no secret reaches the dashboard model or the log', async () => {
    const samples = secretCorpus();
    const { project, tokens } = corpusProject(samples);
    const lines: string[] = [];
    const logger: Logger = { trace: (m) => lines.push(m), debug: (m) => lines.push(m), info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
    const service = await GatewayService.start({ folder: project.folder, logger, watchConfig: false });
    const client = new Client({ name: 'secrets', version: '1.0.0' }, { capabilities: {} });
    const never = new Emitter<void>();
    let model: DashboardModel | undefined;
    try {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await service.gateway.createServer().connect(serverSide);
      await client.connect(clientSide);
      const source = gatewayServiceSource(service, {
        label: 'secrets',
        halt: () => ({ decision: 'absent' }),
        onDidChangeHalt: never.event,
        showOutput: () => undefined,
        setEnabled: async () => undefined,
      });
      model = new DashboardModel({ current: source, onDidChangeSource: never.event });
      const seenByClient = await exercise(client, samples, tokens);
      await until('the calls in the model', () => model!.state().audit.filter((e) => e.server === 'rec').length >= 4, 15_000, 25);
      await until('the crash in the model', () => model!.state().servers.some((s) => JSON.stringify(s).includes('REDACTED')), 15_000, 25);
      const places = { 'dashboard model': JSON.stringify(model.state()), 'log lines': lines.join('\n'), client: JSON.stringify(seenByClient) };
      assert.deepEqual(leaksIn(places, samples, tokens), []);
    } finally {
      model?.dispose();
      await client.close().catch(() => undefined);
      await service.stop();
      service.dispose();
      never.dispose();
    }
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
