import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { capResult } from '../../../../extension/gateway/chain/resultCapLayer';
import { payloadToPrompt, payloadToResource, promptToPayload, resourceToPayload } from '../../../../extension/gateway/routing/payload';

describe('payload: prompts and resources through the content-part layers', () => {
  test('a prompt round-trips with roles, description and _meta', () => {
    const prompt = {
      description: 'd',
      _meta: { k: 1 },
      messages: [
        { role: 'user' as const, content: { type: 'text' as const, text: 'hi' } },
        { role: 'assistant' as const, content: { type: 'image' as const, data: 'AAAA', mimeType: 'image/png' } },
      ],
    };
    assert.deepEqual(payloadToPrompt(promptToPayload(prompt)), prompt);
  });

  test('a resource round-trips; a text blob is carried as text and encoded again; a binary blob is untouched', () => {
    const json = Buffer.from('{"a":1}').toString('base64');
    const bin = Buffer.from([0xff, 0xfe, 0x00]).toString('base64');
    const result = {
      contents: [
        { uri: 'x://t', mimeType: 'text/plain', text: 'hello' },
        { uri: 'x://j', mimeType: 'application/json', blob: json },
        { uri: 'x://b', mimeType: 'application/octet-stream', blob: bin },
      ],
    };
    const payload = resourceToPayload(result);
    assert.deepEqual(payload.content[1], { type: 'resource', resource: { uri: 'x://j', mimeType: 'application/json', text: '{"a":1}' } });
    assert.deepEqual(payloadToResource(payload, 'x://t'), result);
  });

  test('the size cap cuts resource text and removes a large blob, keeping the result valid', () => {
    const big = { contents: [{ uri: 'x://t', mimeType: 'text/plain', text: 'y'.repeat(5000) }, { uri: 'x://b', mimeType: 'image/png', blob: 'A'.repeat(5000) }] };
    const capped = payloadToResource(capResult(resourceToPayload(big), 2048).result, 'x://t');
    assert.ok(JSON.stringify(capped).length < 2600);
    assert.equal(capped.contents[0]?.uri, 'x://t');
    assert.ok(capped.contents.every((c) => typeof c.uri === 'string'));
    assert.match(JSON.stringify(capped), /over the 2048-byte limit/);
  });

  test('a part a layer appends comes back as an extra user message', () => {
    const payload = promptToPayload({ messages: [{ role: 'assistant', content: { type: 'text', text: 'a' } }] });
    payload.content.push({ type: 'text', text: '[warning]' });
    assert.deepEqual(payloadToPrompt(payload).messages.map((m) => m.role), ['assistant', 'user']);
  });
});
