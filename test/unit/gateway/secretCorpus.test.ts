/**
 * The secret corpus against the redactor itself (issue 13 item 2): every sample of every format
 * is redacted by the worker (as a value, as an object key, and inside JSON text) and by the
 * main-thread sync redactor; the benign corpus measures the false-positive rate README states.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compilePatterns, redactString } from '../../../extension/gateway/scanner/engine';
import { SECRET_PATTERNS } from '../../../extension/gateway/scanner/patterns';
import { Scanner } from '../../../extension/gateway/scanner/scannerClient';
import { createSyncRedactor } from '../../../extension/gateway/scanner/syncRedactor';
import { benignCorpus, formats, secretCorpus } from '../../fixtures/secrets/secretCorpus';

/** The rate README's security section states; the measured rate may never exceed it. */
const STATED_FALSE_POSITIVES = 0;

const samples = secretCorpus();
const benign = benignCorpus();

function leaks(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => text.includes(s));
}

describe('secret corpus', () => {
  let scanner: Scanner;
  before(() => (scanner = new Scanner({ matchTimeoutMs: 100 })));
  after(() => scanner.dispose());

  it('holds at least 30 formats', () => {
    assert.ok(formats(samples) >= 30, `${formats(samples)} formats`);
    assert.ok(samples.length >= 60, `${samples.length} samples`);
  });

  it('the worker redacts every sample as an argument value, and records its pattern', async () => {
    const args = Object.fromEntries(samples.map((s, i) => [`s${i}`, s.text]));
    const r = await scanner.redact(args, { root: 'arguments' });
    const out = r.value as Record<string, string>;
    const failed = samples.filter((s, i) => leaks(out[`s${i}`]!, s.secrets).length > 0).map((s) => s.format);
    assert.deepEqual(failed, [], 'formats that leaked');
    assert.equal(r.redactedFields.length, samples.length);
  });

  it('the worker redacts every sample used as an object key', async () => {
    const args = Object.fromEntries(samples.map((s, i) => [s.text, i]));
    const r = await scanner.redact({ nested: args });
    const out = JSON.stringify(r.value) + JSON.stringify(r.redactedFields);
    const failed = samples.filter((s) => leaks(out, s.secrets).length > 0).map((s) => s.format);
    assert.deepEqual(failed, [], 'formats that leaked as keys');
    assert.equal(Object.keys((r.value as { nested: object }).nested).length, samples.length, 'no member lost');
  });

  it('the worker redacts every sample inside JSON text (a tool result that is a JSON document)', async () => {
    const text = JSON.stringify(Object.fromEntries(samples.map((s, i) => [`s${i}`, s.text])), null, 2);
    const r = await scanner.redact({ content: [{ type: 'text', text }] }, { mcpContent: true });
    const out = (r.value as { content: Array<{ text: string }> }).content[0]!.text;
    // The secrets as they appear in JSON text (escaped).
    const failed = samples.filter((s) => leaks(out, s.secrets.map((x) => JSON.stringify(x).slice(1, -1))).length > 0).map((s) => s.format);
    assert.deepEqual(failed, [], 'formats that leaked inside JSON text');
  });

  it('the sync redactor (state file, UI, log lines) redacts every sample', () => {
    const redact = createSyncRedactor();
    const failed = samples.filter((s) => leaks(redact(s.text), s.secrets).length > 0).map((s) => s.format);
    assert.deepEqual(failed, [], 'formats that leaked through the sync redactor');
  });

  it('the sync redactor remembers only clean texts: a second pass, and one after its memory starts over, gives the first outcome', () => {
    const redact = createSyncRedactor();
    const texts = [...benign.map((b) => b.text), ...samples.map((s) => s.text), ...samples.map((s) => s.text.slice(0, 200))];
    const first = texts.map((t) => redact(t));
    assert.deepEqual(texts.map((t) => redact(t)), first, 'second pass');
    // More distinct short texts than it remembers, then everything again.
    for (let i = 0; i < 3000; i++) redact(`clean ${i}`);
    assert.deepEqual(texts.map((t) => redact(t)), first, 'after the memory started over');
    assert.deepEqual(texts.map((t) => createSyncRedactor()(t)), first, 'each text alone, by a new redactor');
    for (const s of samples) assert.deepEqual(leaks(redact(s.text), s.secrets), [], s.format);
  });

  it('the probe (one alternation of the built-in patterns) changes no outcome: same text with it and without it', () => {
    const withProbe = compilePatterns(SECRET_PATTERNS);
    assert.ok(withProbe.probe, 'built-in patterns are probed');
    const without = compilePatterns(SECRET_PATTERNS);
    delete without.probe;
    const texts = [...samples.map((s) => s.text), ...benign.map((b) => b.text), ...samples.map((s) => `prefix ${s.text.slice(0, 200)}`)];
    for (const text of texts) assert.deepEqual(redactString(text, withProbe), redactString(text, without), text.slice(0, 80));
  });

  it(`leaves ordinary code and prose alone: false positives ≤ ${STATED_FALSE_POSITIVES} of ${benign.length} samples`, async (t) => {
    const r = await scanner.redact(benign.map((b) => b.text));
    const hits = (r.value as string[]).map((v, i) => (v === benign[i]!.text ? undefined : benign[i]!.kind)).filter((k) => k !== undefined);
    const bytes = benign.reduce((n, b) => n + b.text.length, 0);
    t.diagnostic(`benign corpus: ${benign.length} samples, ${bytes} characters, ${new Set(benign.map((b) => b.kind)).size} kinds; false positives: ${hits.length} (${hits.join(', ') || 'none'})`);
    assert.ok(hits.length <= STATED_FALSE_POSITIVES, `false positives: ${hits.join(', ')}`);
    const sync = createSyncRedactor();
    const syncHits = benign.filter((b) => b.text.length <= 8192 && sync(b.text) !== b.text).map((b) => b.kind);
    assert.ok(syncHits.length <= STATED_FALSE_POSITIVES, `sync false positives: ${syncHits.join(', ')}`);
  });
});
