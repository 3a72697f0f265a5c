import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compilePatterns, redactString } from '../../../extension/gateway/scanner/engine';
import { allLinearTime, linearTimeProblems } from '../../../extension/gateway/scanner/linearTime';
import { SECRET_PATTERNS } from '../../../extension/gateway/scanner/patterns';
import { Scanner } from '../../../extension/gateway/scanner/scannerClient';
import { createSyncRedactor } from '../../../extension/gateway/scanner/syncRedactor';
import { filler, seeded } from '../../fixtures/secrets/secretCorpus';

const DASHES = '-'.repeat(5);
const rand = seeded(1);

/** A fake key block of `kind` with a base64 body wrapped at 64, joined with `sep`. */
function block(kind: string, sep = '\n', bytes = 700, headers: string[] = []): { text: string; body: string[] } {
  const b64 = Buffer.from(filler(rand, 'FAKEfake0123456789', bytes)).toString('base64');
  const body: string[] = [];
  for (let i = 0; i < b64.length; i += 64) body.push(b64.slice(i, i + 64));
  return { text: [`${DASHES}BEGIN ${kind}${DASHES}`, ...headers, ...body, `${DASHES}END ${kind}${DASHES}`].join(sep), body };
}

const KINDS = ['RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'PGP PRIVATE KEY BLOCK'];

describe('built-in secret patterns', () => {
  const patterns = compilePatterns(SECRET_PATTERNS);
  const redact = (text: string): string => redactString(text, patterns)?.value ?? text;

  it('keeps rea’s 12 patterns first, in rea’s order, under rea’s names', () => {
    assert.deepEqual(
      SECRET_PATTERNS.slice(0, 12).map((p) => p.name),
      [
        'AWS Access Key', 'AWS Secret Key', 'GitHub Token', 'Generic API Key', 'Bearer Token', 'Private Key', 'Discord Token',
        'Base64 AWS Key', 'Anthropic API Key', 'OpenAI Project Key', 'OpenAI API Key', 'Hugging Face Token',
      ],
    );
  });

  it('are all linear-time by shape: no nested quantifiers, no backreferences (DESIGN §1)', () => {
    for (const p of SECRET_PATTERNS) assert.deepEqual(linearTimeProblems(p.regex), [], p.name);
    // The checker itself catches what it must.
    assert.deepEqual(linearTimeProblems('(a+)+$'), ['nested quantifier']);
    assert.deepEqual(linearTimeProblems('(?:x|y*){2,}'), ['nested quantifier']);
    assert.deepEqual(linearTimeProblems('(a)\\1'), ['backreference \\1']);
    assert.deepEqual(linearTimeProblems('(?<q>a)\\k<q>'), ['backreference \\k']);
    assert.deepEqual(linearTimeProblems('(?:ab)?c{2}[x+*]'), []);
    assert.deepEqual(linearTimeProblems('(?:a{4,5}b)?(?:c+){0,1}'), []);
    // What lets the scanner run the built-ins inline on small payloads (scannerClient.ts).
    assert.equal(allLinearTime(SECRET_PATTERNS.map((p) => p.regex)), true);
    assert.equal(allLinearTime([...SECRET_PATTERNS.map((p) => p.regex), '(a+)+$']), false);
    assert.equal(allLinearTime(['(a)\\1']), false);
  });

  for (const kind of KINDS) {
    it(`redacts a whole ${kind} block, header to footer, body included`, () => {
      const k = block(kind);
      const out = redact(`key:\n${k.text}\nafter`);
      assert.equal(out, 'key:\n[REDACTED:Private Key]\nafter');
    });
  }

  it('redacts a key whose body spans literal \\n escapes inside JSON text (a GCP service account)', () => {
    const k = block('PRIVATE KEY');
    const json = JSON.stringify({ type: 'service_account', private_key: `${k.text}\n`, client_email: 'fake@example.iam.gserviceaccount.com' });
    assert.ok(json.includes('\\n'), 'the newlines are escapes');
    const out = redact(json);
    for (const line of k.body) assert.ok(!out.includes(line), 'body line leaked');
    assert.deepEqual(JSON.parse(out), { type: 'service_account', private_key: '[REDACTED:Private Key]\n', client_email: 'fake@example.iam.gserviceaccount.com' });
  });

  it('redacts legacy encrypted PEM (Proc-Type/DEK-Info), CRLF line ends, SSH2 armour, and a key cut short', () => {
    const iv = filler(rand, '0123456789ABCDEF', 32);
    const legacy = block('RSA PRIVATE KEY', '\n', 700, ['Proc-Type: 4,ENCRYPTED', `DEK-Info: AES-128-CBC,${iv}`, '']);
    assert.equal(redact(legacy.text), '[REDACTED:Private Key]');
    assert.equal(redact(block('OPENSSH PRIVATE KEY', '\r\n').text), '[REDACTED:Private Key]');
    const ssh2 = block('X', '\n').body;
    assert.equal(redact(['---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----', 'Comment: "rsa-key-fake"', ...ssh2, '---- END SSH2 ENCRYPTED PRIVATE KEY ----'].join('\n')), '[REDACTED:Private Key]');
    const cut = block('OPENSSH PRIVATE KEY');
    const out = redact(cut.text.slice(0, cut.text.lastIndexOf('\n')));
    assert.equal(out, '[REDACTED:Private Key]');
  });

  it('redacts two keys in one text separately and keeps the text between them', () => {
    const out = redact(`${block('EC PRIVATE KEY').text}\nmiddle\n${block('PGP PRIVATE KEY BLOCK').text}`);
    assert.equal(out, '[REDACTED:Private Key]\nmiddle\n[REDACTED:Private Key]');
  });

  it('leaves public keys and certificates alone', () => {
    const pub = block('PUBLIC KEY').text;
    const cert = block('CERTIFICATE').text;
    assert.equal(redact(pub), pub);
    assert.equal(redact(cert), cert);
  });

  it('redacts bare JWTs and Slack tokens and webhooks', () => {
    const seg = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = `${seg({ alg: 'HS256', typ: 'JWT' })}.${seg({ sub: 'fake' })}.${filler(rand, 'abcXYZ019-_', 43)}`;
    assert.equal(redact(`{"id_token":"${jwt}"}`), '{"id_token":"[REDACTED:JSON Web Token]"}');
    const slack = [
      `xoxb-${filler(rand, '0123456789', 12)}-${filler(rand, '0123456789', 13)}-${filler(rand, 'FAKEfake', 24)}`,
      `xoxp-${filler(rand, '0123456789', 12)}-${filler(rand, '0123456789', 12)}-${filler(rand, 'abcdef0123', 32)}`,
      `xapp-1-A${filler(rand, 'FAKE0123', 10)}-${filler(rand, '0123456789', 13)}-${filler(rand, 'abcdef0123', 64)}`,
    ];
    for (const t of slack) assert.equal(redact(`token ${t} end`), 'token [REDACTED:Slack Token] end');
    const hook = `https://hooks.slack.com/services/T${filler(rand, 'FAKE0123', 8)}/B${filler(rand, 'FAKE0123', 8)}/${filler(rand, 'FAKEfake', 24)}`;
    assert.equal(redact(hook), 'https://[REDACTED:Slack Webhook]');
  });

  it('takes bearer tokens, not the words after "Bearer" in docs and prose', () => {
    for (const text of ['Use Bearer authentication.', 'the Bearer token goes in a header', 'the bearer of bad news', 'Authorization: Bearer <token>']) assert.equal(redact(text), text);
    for (const token of ['abc.def-ghi_jkl', `${filler(rand, 'abcdefXYZ', 20)}`, `x${filler(rand, '0123456789', 12)}`]) {
      assert.equal(redact(`Authorization: Bearer ${token}`), 'Authorization: [REDACTED:Bearer Token]');
    }
  });

  it('keeps the scheme and host of a URL whose password it redacts, and a bot id before a Telegram secret', () => {
    const pw = `Fake${filler(rand, 'abcXYZ019', 12)}`;
    assert.equal(redact(`postgres://app:${pw}@db.example.com:5432/app`), 'postgres://[REDACTED:URL Password]@db.example.com:5432/app');
    assert.equal(redact(`redis://:${pw}@cache:6379`), 'redis://[REDACTED:URL Password]@cache:6379');
    assert.equal(redact('https://user@example.com/x and https://example.com:8080/a@b'), 'https://user@example.com/x and https://example.com:8080/a@b');
    assert.equal(redact(`bot123456789:AA${filler(rand, 'abcXYZ019_-', 33)}/getMe`), 'bot123456789[REDACTED:Telegram Bot Token]/getMe');
  });

  it('the sync redactor (state, logs, tooltips) redacts a whole key too, even when its text is capped', () => {
    const redactSync = createSyncRedactor();
    const k = block('RSA PRIVATE KEY', '\n', 9000);
    const out = redactSync(`child said: ${k.text}`);
    for (const line of k.body) assert.ok(!out.includes(line), 'body line leaked');
    assert.match(out, /^child said: \[REDACTED:Private Key\]/);
  });
});

describe('built-in secret patterns in the scanner worker', () => {
  let scanner: Scanner;
  before(() => (scanner = new Scanner({ matchTimeoutMs: 100 })));
  after(() => scanner.dispose());

  it('redacts a multi-line key in an argument value and reports one field', async () => {
    const k = block('OPENSSH PRIVATE KEY');
    const r = await scanner.redact({ key: k.text, note: 'ok' }, { root: 'arguments' });
    assert.deepEqual(r.value, { key: '[REDACTED:Private Key]', note: 'ok' });
    assert.deepEqual(r.redactedFields, ['arguments.key']);
  });
});
