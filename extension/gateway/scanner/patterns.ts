/**
 * The pattern sets the scanner worker runs: rea's built-in secret patterns (SPEC §7.9, same
 * names, sources and order), the injection phrases (SPEC §7.10), and the helpers that turn
 * policy `redact.patterns` into specs the worker can compile. No Node imports: the worker and
 * the client both load this file.
 */

/** Where a pattern came from; reported with timeouts (rea's `pattern_source`). */
export type PatternSource = 'default' | 'user' | 'injection';

/** A regex as data, so it can cross the worker boundary and be compiled there. */
export interface PatternSpec {
  name: string;
  source: PatternSource;
  /** RegExp source, without slashes. */
  regex: string;
  /** RegExp flags; `g` is always added by the worker, `y` is dropped. */
  flags: string;
}

/** A policy `redact.patterns[]` entry (SPEC §10.2). */
export interface UserPatternInput {
  name: string;
  regex: string;
  flags?: string;
}

/**
 * A private key block, header to footer: PKCS#1 (RSA, EC, DSA), PKCS#8 (plain and ENCRYPTED),
 * OpenSSH, PGP and the SSH2 (`---- BEGIN SSH2 … ----`) armour. rea matched the header line only,
 * so the base64 body went through. The body is anything up to the next run of four dashes (PEM
 * bodies never hold one; encapsulated headers like `DEK-Info:` hold single dashes), so it spans
 * real newlines and the literal `\n` escapes of a key inside JSON text alike. The footer is
 * optional: a key cut short (a capped log line, a truncated result) is redacted to its end.
 * Linear time: no nested quantifier, one bounded loop whose two branches cannot both match.
 */
const PRIVATE_KEY_BLOCK =
  '-{4,5} ?BEGIN [A-Z0-9 ]{0,40}(?:PRIVATE|SECRET) KEY(?: BLOCK)? ?-{4,5}' +
  '(?:[^-]|-(?!---)){0,20000}' +
  '(?:-{4,5} ?END [A-Z0-9 ]{0,40}(?:PRIVATE|SECRET) KEY(?: BLOCK)? ?-{4,5})?';

/**
 * rea's `SECRET_PATTERNS`, in rea's order (later patterns see the output of earlier ones, so
 * the order is part of the behaviour: Anthropic and OpenAI project keys run before the generic
 * `sk-` key), then Gatehouse's additions. Three of rea's are widened, under rea's names: `Private
 * Key` takes the whole block (see {@link PRIVATE_KEY_BLOCK}), `AWS Access Key` also takes
 * temporary (`ASIA`) keys, and `Discord Token` takes `O…` ids and has a bounded first segment.
 * `Bearer Token` wants a token-like word after `Bearer` (see there) and
 * `AWS Access Key` is case-sensitive (rea: `gi`): real key ids are upper-case, and `akia…` in
 * any case was the one false positive in base64 data of the benign corpus.
 *
 * Every pattern here also runs on the main thread (the sync redactor, on bounded text), so each
 * must stay linear-time: no nested quantifiers, no backreferences, and a bounded repetition
 * wherever a failing suffix could make the engine rescan a long run
 * (test/unit/gateway/secretPatterns.test.ts checks the shape).
 */
export const SECRET_PATTERNS: readonly PatternSpec[] = [
  // --- rea (SPEC §7.9) ---
  { name: 'AWS Access Key', regex: '(?:AKIA|ASIA)[0-9A-Z]{16}', flags: 'g' },
  { name: 'AWS Secret Key', regex: '(?:aws_secret_access_key|secret_key)\\s*[:=]\\s*[A-Za-z0-9/+=]{40}', flags: 'gi' },
  { name: 'GitHub Token', regex: 'gh[pousr]_[A-Za-z0-9_]{36,}', flags: 'g' },
  { name: 'Generic API Key', regex: '(?:api[_-]?key|apikey)\\s*[:=]\\s*["\']?[A-Za-z0-9\\-_.]{20,}["\']?', flags: 'gi' },
  // rea's, but a token must look like one: a digit, or token punctuation inside the word (not a
  // full stop after it), within its first 16 characters, or 16 letters. rea's took any word, so API docs ("Bearer authentication", "the
  // Bearer token") and prose ("the bearer of") lost it.
  { name: 'Bearer Token', regex: 'bearer\\s+(?=[A-Za-z]{0,15}(?:[0-9]|[\\-_.~+/][A-Za-z0-9])|[A-Za-z]{16})[A-Za-z0-9\\-_.~+/]+=*', flags: 'gi' },
  { name: 'Private Key', regex: PRIVATE_KEY_BLOCK, flags: 'gi' },
  { name: 'Discord Token', regex: '[MNO](?<![A-Za-z0-9][MNO])[A-Za-z\\d]{23,30}\\.[\\w-]{6}\\.[\\w-]{27,200}', flags: 'g' },
  { name: 'Base64 AWS Key', regex: 'QUtJQ[A-Za-z0-9+/]{17,}={0,2}', flags: 'g' },
  { name: 'Anthropic API Key', regex: 'sk-ant-[a-zA-Z0-9\\-_]{32,}', flags: 'g' },
  { name: 'OpenAI Project Key', regex: 'sk-proj-[a-zA-Z0-9\\-_]{32,}', flags: 'g' },
  { name: 'OpenAI API Key', regex: 'sk-[a-zA-Z0-9]{32,}', flags: 'g' },
  { name: 'Hugging Face Token', regex: 'hf_[a-zA-Z0-9]{32,}', flags: 'g' },
  // --- Gatehouse additions (issue 13) ---
  // Three base64url segments, the first two JSON objects (`{"` encodes as `eyJ`). Starts only at
  // the start of a token: inside `eyJeyJeyJ…` every `eyJ` would rescan the run (quadratic).
  // (Here and below, a literal comes first and the lookbehind after it: a pattern that opens
  // with a literal lets V8 skip ahead to it instead of trying every position.)
  { name: 'JSON Web Token', regex: 'eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{5,4096}\\.eyJ[A-Za-z0-9_-]{5,8192}\\.[A-Za-z0-9_-]{0,4096}', flags: 'g' },
  { name: 'Slack Token', regex: '(?:xox[a-z](?:\\.xox[a-z])?|xapp-[0-9])-[0-9A-Za-z-]{10,250}', flags: 'g' },
  { name: 'Slack Webhook', regex: 'hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{10,250}', flags: 'gi' },
  { name: 'Discord Webhook', regex: 'discord(?:app)?\\.com/api/webhooks/[0-9]{5,30}/[A-Za-z0-9_-]{20,200}', flags: 'gi' },
  { name: 'Telegram Bot Token', regex: ':AA(?<=[0-9]{8}:AA)[0-9A-Za-z_-]{30,40}', flags: 'g' },
  { name: 'GitHub Fine-grained Token', regex: 'github_pat_[A-Za-z0-9_]{22,255}', flags: 'g' },
  { name: 'GitLab Token', regex: 'gl(?:pat|dt|rt|ptt|cbt|ft|soat|oas|imt)-[0-9A-Za-z_-]{20,100}', flags: 'g' },
  { name: 'Atlassian Token', regex: '\\bAT(?:BB|ATT|CTT)[A-Za-z0-9_=.-]{28,400}', flags: 'g' },
  { name: 'Stripe Key', regex: '(?:(?:sk|rk|pk)_(?:live|test)|whsec)_[0-9A-Za-z]{20,250}', flags: 'g' },
  { name: 'Twilio API Key', regex: '\\bSK[0-9a-fA-F]{32}\\b', flags: 'g' },
  { name: 'SendGrid API Key', regex: 'SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}', flags: 'g' },
  { name: 'npm Token', regex: 'npm_[A-Za-z0-9]{36}', flags: 'g' },
  { name: 'PyPI Token', regex: 'pypi-AgE[A-Za-z0-9_-]{50,1000}', flags: 'g' },
  { name: 'Google API Key', regex: '\\bAIza[0-9A-Za-z_-]{35}', flags: 'g' },
  { name: 'Google OAuth Secret', regex: 'GOCSPX-[0-9A-Za-z_-]{28}', flags: 'g' },
  { name: 'Google OAuth Token', regex: '\\bya29\\.[0-9A-Za-z_-]{20,2048}', flags: 'g' },
  { name: 'Azure Key', regex: '(?:AccountKey|SharedAccessKey|SharedSecretValue)\\s{0,8}=\\s{0,8}[A-Za-z0-9+/]{20,200}={0,2}', flags: 'gi' },
  { name: 'Azure SAS Signature', regex: 'sig=(?<=[?&]sig=)[A-Za-z0-9%+/]{20,200}={0,2}', flags: 'g' },
  { name: 'Azure AD Client Secret', regex: 'Q~(?<=[A-Za-z0-9_~.-]{3}[0-9]Q~)[A-Za-z0-9_~.-]{31,34}', flags: 'g' },
  { name: 'DigitalOcean Token', regex: 'do[por]_v1_[a-f0-9]{64}', flags: 'g' },
  { name: 'Vault Token', regex: '\\bhv[sbr]\\.[A-Za-z0-9_-]{24,200}', flags: 'g' },
  { name: 'Docker Hub Token', regex: 'dckr_pat_[A-Za-z0-9_-]{20,100}', flags: 'g' },
  { name: 'Shopify Token', regex: 'shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}', flags: 'g' },
  { name: 'Linear API Key', regex: 'lin_api_[A-Za-z0-9]{40}', flags: 'g' },
  { name: 'Age Secret Key', regex: 'AGE-SECRET-KEY-1[0-9A-Z]{58}', flags: 'g' },
  // `scheme://user:password@host`: the credentials are replaced, scheme and host kept (the
  // `keep` group stays in front of the marker). The password may hold `@` (some drivers accept
  // it unencoded): the last `@` before the host wins.
  { name: 'URL Password', regex: '(?<keep>://)[^\\s:/?#@"\'<>]{0,256}:[^\\s/?#"\'<>]{1,256}(?=@)', flags: 'g' },
  // ADO.NET / JDBC / libpq key=value strings: `…;Password=…;`.
  { name: 'Connection String Password', regex: '(?:password|pwd)(?<=(?:^|;)\\s{0,8}(?:password|pwd))\\s{0,8}=\\s{0,8}[^;\\s"\']{1,256}', flags: 'gi' },
  // A secret-named key with a quoted value, as in JSON, YAML, .env or code:
  // `"password": "…"`, `client_secret = '…'`, `AWS_SECRET_ACCESS_KEY="…"`; quotes may be escaped
  // (`\"password\": \"…\"`: JSON inside a JSON string).
  {
    name: 'Secret Assignment',
    regex:
      '(?:password|passwd|passphrase|client_?secret|api_?secret|secret_?access_?key|secret_?key|access_?token|auth_?token|refresh_?token|private_?key|api[_-]?key)' +
      '\\\\?["\']?\\s{0,16}[:=]\\s{0,16}\\\\?["\'][^"\'\\s\\\\]{6,512}\\\\?["\']',
    flags: 'gi',
  },
  // Unquoted `.env` lines: `DB_PASSWORD=…`, `JWT_SECRET=…` (upper-case names only: code is not).
  { name: 'Env Secret', regex: '(?:PASSWORD|PASSWD|SECRET|API_KEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]{0,40}=[^\\s"\'$]{6,512}', flags: 'g' },
  // `Authorization: Basic …` as a header line, or a whole value that is `Basic <base64>` (the
  // lookahead wants a capital or digit after the first character: a word like "Basic
  // Configuration" is not a credential).
  { name: 'Basic Auth', regex: 'authorization["\']?\\s{0,16}[:=]\\s{0,16}["\']?basic\\s{1,16}[A-Za-z0-9+/]{4,512}={0,2}', flags: 'gi' },
  { name: 'Basic Auth Value', regex: '^\\s{0,16}Basic [A-Za-z0-9+/](?=[a-z]{0,510}[A-Z0-9+/])[A-Za-z0-9+/]{7,511}={0,2}\\s{0,16}$', flags: 'g' },
].map((p) => Object.freeze({ ...p, source: 'default' as const }));

/**
 * For each built-in pattern, groups of literals: every match holds at least one literal of each
 * group. On a long text that, for some group, lacks a character of each of its literals, the
 * scanner skips the pattern (looking for a character is a native byte scan, tens of times
 * cheaper than the pattern's own scan; long texts of one kind — `xxxx…`, prose, JSON, base64 —
 * lack much of the punctuation the patterns need, e.g. the `:` or `=` of an assignment). A
 * case-insensitive pattern's literals are lower-case and either case of a letter counts: without
 * the `u` flag, `i` folds an ASCII letter only to its other case. Each group names, for every
 * branch of the pattern, a part of the match that branch cannot do without; a pattern missing
 * here, or a spec that differs from the built-in of its name (see `compilePatterns`), always
 * runs. Changing a pattern means checking its groups: test/unit/gateway/secretLiterals.test.ts
 * generates matches of every branch of every pattern and fails on a match a group misses.
 */
export const SECRET_LITERALS: Readonly<Record<string, ReadonlyArray<readonly string[]>>> = {
  'AWS Access Key': [['AKIA', 'ASIA']],
  'AWS Secret Key': [['secret_'], [':', '=']],
  'GitHub Token': [['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_']],
  'Generic API Key': [['api_key', 'api-key', 'apikey'], [':', '=']],
  'Bearer Token': [['bearer']],
  'Private Key': [['----'], ['begin ']],
  'Discord Token': [['M', 'N', 'O'], ['.']],
  'Base64 AWS Key': [['QUtJQ']],
  'Anthropic API Key': [['sk-ant-']],
  'OpenAI Project Key': [['sk-proj-']],
  'OpenAI API Key': [['sk-']],
  'Hugging Face Token': [['hf_']],
  'JSON Web Token': [['.eyJ']],
  'Slack Token': [['xox', 'xapp-'], ['-']],
  'Slack Webhook': [['hooks.slack.com/']],
  'Discord Webhook': [['.com/api/webhooks/']],
  'Telegram Bot Token': [[':AA']],
  'GitHub Fine-grained Token': [['github_pat_']],
  'GitLab Token': [['gl'], ['-']],
  'Atlassian Token': [['AT']],
  'Stripe Key': [['_live_', '_test_', 'whsec_']],
  'Twilio API Key': [['SK']],
  'SendGrid API Key': [['SG.']],
  'npm Token': [['npm_']],
  'PyPI Token': [['pypi-AgE']],
  'Google API Key': [['AIza']],
  'Google OAuth Secret': [['GOCSPX-']],
  'Google OAuth Token': [['ya29.']],
  'Azure Key': [['accountkey', 'sharedaccesskey', 'sharedsecretvalue'], ['=']],
  'Azure SAS Signature': [['sig=']],
  'Azure AD Client Secret': [['Q~']],
  'DigitalOcean Token': [['_v1_']],
  'Vault Token': [['hvs.', 'hvb.', 'hvr.']],
  'Docker Hub Token': [['dckr_pat_']],
  'Shopify Token': [['shp']],
  'Linear API Key': [['lin_api_']],
  'Age Secret Key': [['AGE-SECRET-KEY-1']],
  'URL Password': [['://']],
  'Connection String Password': [['password', 'pwd'], ['=']],
  'Secret Assignment': [['pass', 'secret', 'token', 'private', 'api'], [':', '='], ['"', "'"]],
  'Env Secret': [['PASS', 'SECRET', '_KEY'], ['=']],
  'Basic Auth': [['authorization'], [':', '='], ['basic']],
};

/**
 * Injection phrases, matched as substrings of the normalised text (SPEC §7.10). The trailing
 * spaces of the last four are significant; "act as a" is deliberately absent.
 */
export const INJECTION_PHRASES: readonly string[] = [
  'ignore previous instructions',
  'disregard your',
  'your new instructions are',
  'system prompt override',
  'forget all previous',
  'you are now a ',
  'you are now an ',
  'pretend you are ',
  'roleplay as ',
];

/**
 * Base64 tokens probed for hidden phrases (taken from the raw string): each run of 20 or more
 * base64 characters, with its padding. The lookbehind changes no match (a scan never resumes
 * inside a run, and a run shorter than 20 fails at its start, so every match starts a run); it
 * makes each position inside a short run fail at once instead of rescanning the rest of the run
 * (half the time on prose).
 */
export const BASE64_TOKEN: PatternSpec = {
  name: 'base64 token',
  source: 'injection',
  regex: '(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{20,}={0,2}',
  flags: 'g',
};

/** What replaces a secret: `[REDACTED:<pattern name>]`. */
export function redactionMarker(name: string): string {
  return `[REDACTED:${name}]`;
}

/** What replaces every string of a value whose redaction did not finish in time. */
export const REDACTION_TIMED_OUT = '[REDACTION TIMED OUT]';

/** Flags as the worker compiles them: always global, never sticky, each flag once. */
export function normaliseFlags(flags: string | undefined): string {
  const kept = new Set([...(flags ?? '')].filter((f) => f !== 'g' && f !== 'y'));
  return ['g', ...kept].join('');
}

/** Result of vetting policy patterns before they go to the worker. */
export interface VettedPatterns {
  specs: PatternSpec[];
  /** Patterns that do not compile; they are not used, and the caller must surface them. */
  rejected: Array<{ name: string; reason: string }>;
}

/**
 * Turns policy `redact.patterns` into specs. Compiling a RegExp does not run it, so this is
 * safe on the main thread; patterns that do not compile are returned as rejected (the policy
 * schema already refuses them, this is the second line).
 */
export function vetUserPatterns(input: readonly UserPatternInput[] | undefined): VettedPatterns {
  const specs: PatternSpec[] = [];
  const rejected: Array<{ name: string; reason: string }> = [];
  for (const p of input ?? []) {
    const name = typeof p?.name === 'string' && p.name ? p.name : '(unnamed)';
    if (typeof p?.regex !== 'string' || p.regex === '') {
      rejected.push({ name, reason: 'regex is empty' });
      continue;
    }
    const flags = normaliseFlags(p.flags);
    try {
      new RegExp(p.regex, flags);
    } catch (err) {
      rejected.push({ name, reason: err instanceof Error ? err.message : String(err) });
      continue;
    }
    specs.push({ name, source: 'user', regex: p.regex, flags });
  }
  return { specs, rejected };
}
