import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Logger } from '../../../extension/common/logger';
import { GatewayService } from '../../../extension/gateway/gatewayService';

// Issue 13 item 5: an emptied or deleted policy.yaml silently fell back to defaults.
const roots: string[] = [];
const services: GatewayService[] = [];
after(async () => {
  for (const s of services) {
    await s.stop(0);
    s.dispose();
  }
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

function recordingLogger(lines: string[]): Logger {
  const log = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } as unknown as Logger;
}

async function start(policy: string | undefined): Promise<{ service: GatewayService; dir: string; log: string[] }> {
  const folder = await mkdtemp(path.join(tmpdir(), 'gatehouse-policy-state-'));
  roots.push(folder);
  const dir = path.join(folder, '.gatehouse');
  await mkdir(dir);
  await writeFile(path.join(dir, 'registry.yaml'), 'version: "1"\nservers: []\n');
  if (policy !== undefined) await writeFile(path.join(dir, 'policy.yaml'), policy);
  const log: string[] = [];
  const service = await GatewayService.start({ folder, watchConfig: false, stateFile: false, logger: recordingLogger(log) });
  services.push(service);
  return { service, dir, log };
}

const POLICY = 'autonomy_level: L2\nblocked_paths:\n  - .env\n';

test('a policy.yaml deleted while running keeps the last good policy, and says so everywhere', async () => {
  const { service, dir, log } = await start(POLICY);
  assert.deepEqual(service.configStatus.policy, { source: 'file', summary: 'policy.yaml (autonomy L2)' });
  assert.equal(service.store.snapshot.config?.policy_source, 'file');

  await unlink(path.join(dir, 'policy.yaml'));
  const status = await service.reload();
  assert.deepEqual(service.currentPolicy?.blocked_paths, ['.env'], 'the last good policy stays in force');
  assert.equal(service.currentPolicy?.autonomy_level, 'L2');
  assert.equal(status.usingLastGood, true);
  const problem = status.problems.find((p) => p.code === 'policy-deleted');
  assert.equal(problem?.severity, 'error', 'an error: the tree and the status bar show it');
  assert.match(problem!.message, /policy\.yaml was deleted while the gateway runs, so the last good policy stays in force \(autonomy L2, 1 blocked paths\)/);
  assert.deepEqual(status.policy, { source: 'last_good', summary: 'last good policy, autonomy L2 (policy.yaml was deleted)' });
  const config = service.store.snapshot.config;
  assert.equal(config?.policy_source, 'last_good', 'the state the UI and the state file read');
  assert.equal(config?.errors, 1);
  assert.match(config?.first_error ?? '', /^policy\.yaml:1:1: policy\.yaml was deleted/);
  assert.ok(log.some((l) => l.startsWith('error policy.yaml:1:1: policy.yaml was deleted')), log.join('\n'));

  // Re-created: it applies again.
  await writeFile(path.join(dir, 'policy.yaml'), 'autonomy_level: L1\nblocked_paths: []\n');
  const back = await service.reload();
  assert.equal(back.usingLastGood, false);
  assert.deepEqual(back.policy, { source: 'file', summary: 'policy.yaml (autonomy L1)' });
  assert.deepEqual(service.currentPolicy?.blocked_paths, []);
  assert.equal(service.store.snapshot.config?.errors, 0);
});

test('a policy.yaml emptied while running keeps the last good policy', async () => {
  const { service, dir } = await start(POLICY);
  await writeFile(path.join(dir, 'policy.yaml'), '');
  const status = await service.reload();
  assert.deepEqual(service.currentPolicy?.blocked_paths, ['.env']);
  assert.equal(status.problems.find((p) => p.code === 'policy-emptied')?.severity, 'error');
  assert.equal(status.policy.summary, 'last good policy, autonomy L2 (policy.yaml is empty)');
});

test('no policy.yaml at start is a visible state, not a silent default', async () => {
  const { service, log } = await start(undefined);
  assert.equal(service.currentPolicy, undefined);
  assert.deepEqual(service.configStatus.policy, { source: 'defaults', summary: 'defaults (no policy.yaml)' });
  assert.equal(service.store.snapshot.config?.policy, 'defaults (no policy.yaml)');
  assert.ok(log.includes('info policy: defaults (no policy.yaml)'), log.join('\n'));
  const empty = await start('# nothing yet\n');
  assert.equal(empty.service.configStatus.policy.summary, 'defaults (policy.yaml is empty)');
});

test('an unknown tier in approval: is an error with its position, and the last good approval rules stay in force', async () => {
  const { service, dir } = await start('autonomy_level: L2\napproval:\n  tools: ["echo__write"]\n');
  assert.deepEqual(service.currentPolicy?.approval?.tools, ['echo__write']);
  await writeFile(path.join(dir, 'policy.yaml'), 'autonomy_level: L2\napproval:\n  tools: ["echo__write"]\n  tiers: [dangerous]\n');
  const status = await service.reload();
  assert.equal(status.usingLastGood, true);
  assert.deepEqual(service.currentPolicy?.approval?.tools, ['echo__write'], 'approvals are not dropped by a broken edit');
  assert.match(service.store.snapshot.config?.first_error ?? '', /^policy\.yaml:4:11: approval\.tiers takes read, write and destructive, not 'dangerous'/);
});
