import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { parsePolicy } from '../../../extension/config/loadConfig';
import { DEFAULT_TUNABLES, policySchema, resolveTunables } from '../../../extension/config/policySchema';
import { expectProblem, fixture, type ExpectedProblem } from './helpers';

function parseFixture(name: string): ReturnType<typeof parsePolicy> {
  const { file, text } = fixture(name);
  return parsePolicy(text, file);
}

test('a minimal Gatehouse policy needs only autonomy_level', () => {
  const { policy, problems } = parseFixture('minimal.policy.yaml');
  assert.deepEqual(problems, []);
  assert.deepEqual(policy, { autonomy_level: 'L1', block_ai_attribution: false, blocked_paths: [], notification_channel: '' });
});

test('a policy as rea writes it parses unchanged (context_protection keeps unknown keys)', () => {
  const { policy, problems } = parseFixture('rea.policy.yaml');
  assert.deepEqual(problems, []);
  assert.ok(policy);
  assert.equal(policy.version, '1');
  assert.equal(policy.max_autonomy_level, 'L2');
  assert.deepEqual(policy.blocked_paths, ['.env', 'secrets/']);
  assert.deepEqual(policy.redact, { match_timeout_ms: 50, patterns: [{ name: 'internal-id', regex: 'INT-\\d{6}', flags: 'i' }] });
  assert.deepEqual(policy.context_protection, { delegate_to_subagent: ['Bash'], some_future_key: 'kept' });
  assert.equal(policy.gateway?.health?.expose_diagnostics, true);
});

test('autonomy_level above max_autonomy_level is clamped, with a warning on autonomy_level', () => {
  const { policy, problems } = parseFixture('autonomy-clamp.policy.yaml');
  assert.equal(policy?.autonomy_level, 'L1');
  expectProblem(problems, {
    code: 'autonomy-clamped',
    severity: 'warning',
    range: [1, 17, 1, 19],
    message: 'autonomy_level L3 is above max_autonomy_level L1, so L1 is used; lower autonomy_level to L1 or raise max_autonomy_level',
  });
});

const rejections: [string, ExpectedProblem][] = [
  [
    'missing-autonomy.policy.yaml',
    { code: 'missing-key', range: [1, 1, 1, 23], message: "missing 'autonomy_level'; add e.g. 'autonomy_level: L1' (L0 read-only, L1/L2 read and write, L3 also destructive)" },
  ],
  ['invalid-autonomy.policy.yaml', { code: 'invalid-value', range: [1, 17, 1, 19], message: "autonomy_level must be one of L0, L1, L2, L3, not 'L4'" }],
  ['unknown-key.policy.yaml', { code: 'unknown-key', range: [2, 1, 2, 13], message: "unknown key 'blocked_path'; did you mean 'blocked_paths'?" }],
  [
    'invalid-redact-regex.policy.yaml',
    {
      code: 'invalid-redact-pattern',
      range: [5, 14, 5, 27],
      message: /^redact pattern 'ticket' does not compile \(Invalid regular expression: .*Unterminated group\); fix the regex/,
    },
  ],
  ['invalid-redact-flags.policy.yaml', { code: 'invalid-redact-pattern', range: [6, 14, 6, 16], message: /^redact pattern 'ticket' has invalid flags 'gq' .*use only d, g, i, m, s, u, v, y/ }],
  [
    'inconsistent-tunables.policy.yaml',
    { code: 'inconsistent-tunables', range: [4, 17, 4, 22], message: 'gateway.backoff.max_ms (30000) must be at least initial_ms (60000); raise max_ms or lower initial_ms' },
  ],
  ['invalid-tunable.policy.yaml', { code: 'invalid-value', range: [4, 13, 4, 16], message: 'gateway.backoff.jitter must be at most 1, not 1.5' }],
  ['unknown-tunable.policy.yaml', { code: 'unknown-key', range: [3, 3, 3, 11], message: "unknown key 'breakers' in gateway; did you mean 'breaker'?" }],
  ['invalid-rate-limit-key.policy.yaml', { code: 'invalid-key', range: [4, 5, 4, 14], message: "rate_limit keys are server names or 'default'; 'My_Server' is neither" }],
];

for (const [name, expected] of rejections) {
  test(`rejects ${name}: ${expected.code} at ${expected.range.join(':')}`, () => {
    const result = parseFixture(name);
    assert.equal(result.policy, undefined, 'an error must prevent a result');
    expectProblem(result.problems, expected);
  });
}

test('an empty policy file is ignored with a warning (defaults apply)', () => {
  const { policy, problems } = parseFixture('empty.policy.yaml');
  assert.equal(policy, undefined);
  assert.deepEqual(
    problems.map((p) => [p.code, p.severity]),
    [['empty-policy', 'warning']],
  );
});

test('a .rea policy without the fields rea requires gets a warning naming them', () => {
  const { policy, problems } = parsePolicy('autonomy_level: L1\n', '/w/.rea/policy.yaml');
  assert.equal(policy?.autonomy_level, 'L1');
  const warning = expectProblem(problems, { code: 'rea-incompatible', severity: 'warning', range: [1, 1, 1, 19], message: /refuses it without version, profile, installed_by, installed_at, max_autonomy_level, promotion_requires_human_approval, blocked_paths;/ });
  assert.ok(warning);
  // A complete rea policy in .rea/ gets no such warning.
  assert.deepEqual(parsePolicy(fixture('rea.policy.yaml').text, '/w/.rea/policy.yaml').problems, []);
});

test('tunables: defaults without a policy, frozen', () => {
  const t = resolveTunables(undefined);
  assert.deepEqual(t, { ...DEFAULT_TUNABLES, rate_limit: {} });
  assert.deepEqual(t.breaker, { failure_threshold: 5, cooldown_ms: 30000, max_cooldown_ms: 300000 });
  assert.deepEqual(t.session_blocker, { threshold: 3 });
  assert.deepEqual(t.backoff, { initial_ms: 500, multiplier: 2, max_ms: 30000, jitter: 0.2 });
  assert.deepEqual(t.supervisor, { max_crashes: 5, crash_window_ms: 300000 });
  assert.deepEqual(t.timeouts, { connect_ms: 15000, call_ms: 60000 });
  assert.deepEqual(t.state, { debounce_ms: 250, heartbeat_ms: 10000 });
  assert.equal(t.result_max_bytes, 524288);
  assert.equal(t.health.expose_diagnostics, false);
  assert.ok(Object.isFrozen(t) && Object.isFrozen(t.breaker) && Object.isFrozen(t.rate_limit));
  assert.throws(() => {
    (t.breaker as { failure_threshold: number }).failure_threshold = 1;
  }, TypeError);
});

test('tunables: overrides merge field by field with the defaults', () => {
  const { policy, problems } = parseFixture('tunables.policy.yaml');
  assert.deepEqual(problems, []);
  const t = resolveTunables(policy);
  assert.deepEqual(t.breaker, { failure_threshold: 3, cooldown_ms: 30000, max_cooldown_ms: 300000 });
  assert.deepEqual(t.backoff, { initial_ms: 1000, multiplier: 2, max_ms: 30000, jitter: 0 });
  assert.deepEqual(t.timeouts, { connect_ms: 15000, call_ms: 120000 });
  assert.deepEqual(t.state, { debounce_ms: 0, heartbeat_ms: 10000 });
  assert.equal(t.result_max_bytes, 1048576);
  assert.deepEqual(t.rate_limit, { default: { per_minute: 60, burst: 60 }, github: { per_minute: 30, burst: 5 } });
  // Defaults are never mutated by a resolve.
  assert.equal(DEFAULT_TUNABLES.breaker.failure_threshold, 5);
});

test('tunables: a policy without a gateway block gives the defaults', () => {
  const { policy } = parseFixture('minimal.policy.yaml');
  assert.deepEqual(resolveTunables(policy), resolveTunables(undefined));
});

test('the policy schema converts to JSON Schema', () => {
  const json = z.toJSONSchema(policySchema, { io: 'input' }) as { required?: string[] };
  assert.deepEqual(json.required, ['autonomy_level']);
});

test('client_requests: sampling and elicitation can be denied per server; anything else is refused', () => {
  const ok = parsePolicy('autonomy_level: L1\nclient_requests:\n  everything: { sampling: deny, elicitation: allow }\n', 'policy.yaml');
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.policy?.client_requests, { everything: { sampling: 'deny', elicitation: 'allow' } });
  const bad = parsePolicy('autonomy_level: L1\nclient_requests:\n  everything: { sampling: maybe, roots: deny }\n', 'policy.yaml');
  assert.ok(bad.problems.length >= 1, JSON.stringify(bad.problems));
});
