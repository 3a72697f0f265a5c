/**
 * CPU time of the scanner worker's job on ONE large string, in this process: the built-in
 * patterns compiled as the worker compiles them, then `redactThenFindPhrases` (redaction, then
 * the injection scan of the redacted text) over payloads of several kinds, each timed alone and
 * as the redaction and the scan separately. No worker, no packing, no transport: it measures the
 * pure functions of engine.ts, so a change there is seen as work (`process.cpuUsage()`), not as
 * wall time on a loaded machine.
 *
 * `node --import tsx bench/tools/scanCpu.ts [rounds] [bytes] [kinds]` (defaults: 60 rounds of
 * 256 KiB; kinds `x,json,prose,base64,mixed`); `--cpu-prof` on the node command line profiles it.
 */
import { randomBytes } from 'node:crypto';
import { compilePatterns, redactString, scanInjectionString } from '../../extension/gateway/scanner/engine';
import { redactThenFindPhrases } from '../../extension/gateway/scanner/jobs';
import { SECRET_PATTERNS } from '../../extension/gateway/scanner/patterns';
import { packStrings, unpackString, type PackedStrings } from '../../extension/gateway/scanner/protocol';
import { seeded } from '../../test/fixtures/secrets/secretCorpus';

const rounds = Number(process.argv[2] ?? 60);
const bytes = Number(process.argv[3] ?? 256 * 1024);
const kinds = (process.argv[4] ?? 'x,json,prose,base64,mixed').split(',');

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were ' +
  'their one all we can her has there been if more when will would who so no time people could about other into after ' +
  'Request Config Manager server client handler value index build error warning module package version update'
).split(' ');

function payload(kind: string, size: number): string {
  const next = seeded(7);
  const word = (): string => WORDS[Math.floor(next() * WORDS.length)]!;
  let out = '';
  switch (kind) {
    case 'x':
      return 'x'.repeat(size);
    case 'json': {
      const records: unknown[] = [];
      while (out.length < size) {
        for (let k = 0; k < 50; k++) {
          records.push({
            id: Math.floor(next() * 1e9),
            name: `${word()} ${word()}`,
            path: `/home/user/src/${word()}/${word()}_${Math.floor(next() * 100)}.ts`,
            score: Math.round(next() * 1e4) / 100,
            tags: [word(), word()],
            active: next() < 0.5,
            updated: new Date(1.7e12 + Math.floor(next() * 1e10)).toISOString(),
          });
        }
        out = JSON.stringify(records);
      }
      return out.slice(0, size);
    }
    case 'prose':
      while (out.length < size) {
        let sentence = word();
        sentence = sentence[0]!.toUpperCase() + sentence.slice(1);
        for (let k = 5 + Math.floor(next() * 15); k > 0; k--) sentence += ` ${word()}${next() < 0.1 ? ',' : ''}`;
        out += `${sentence}.${next() < 0.15 ? '\n\n' : ' '}`;
      }
      return out.slice(0, size);
    case 'base64':
      return randomBytes(Math.ceil((size * 3) / 4)).toString('base64').slice(0, size);
    case 'mixed':
      // A log: lines of prose, paths, ids, hex digests and short base64 blobs.
      while (out.length < size) {
        out += `2026-12-02T14:${String(Math.floor(next() * 60)).padStart(2, '0')}:00Z INFO ${word()} ${word()} ` +
          `id=${Math.floor(next() * 1e9)} sha=${randomBytes(20).toString('hex')} blob=${randomBytes(24).toString('base64')} ` +
          `file=/var/lib/${word()}/${word()}.log\n`;
      }
      return out.slice(0, size);
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

/**
 * Median CPU ms per run of `fn` over `rounds` runs, each on a fresh copy of the text unpacked as
 * the worker unpacks it (V8 caches some regex results per subject string: a reused string would
 * be measured warmer than a call's).
 */
function cpuMsPerRun(packed: PackedStrings, fn: (text: string) => void): number {
  for (let i = 0; i < 5; i++) fn(unpackString(packed, 0));
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const text = unpackString(packed, 0);
    const before = process.cpuUsage();
    fn(text);
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const patterns = compilePatterns(SECRET_PATTERNS);
for (const kind of kinds) {
  const text = payload(kind, bytes);
  const packed = packStrings([text]);
  const job = (t: string): void => void redactThenFindPhrases({ count: 1, at: () => t }, patterns);
  const redact = (t: string): void => void redactString(t, patterns);
  const scan = (t: string): void => scanInjectionString(t, new Set(), new Set());
  console.log(
    `${kind.padEnd(7)} ${String(text.length).padStart(8)} chars  job ${cpuMsPerRun(packed, job).toFixed(3)} ms  ` +
      `redact ${cpuMsPerRun(packed, redact).toFixed(3)} ms  scan ${cpuMsPerRun(packed, scan).toFixed(3)} ms`,
  );
}
