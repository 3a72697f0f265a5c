import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { parseBoth } from '../../../helpers/sdkParseAgreement';
import { parseUpstreamMessage } from '../../../../extension/gateway/stdio/upstreamMessage';

describe('parseUpstreamMessage', () => {
  const lines = [
    '{"method":"tools/call","params":{"name":"echo__echo","arguments":{"text":"hi"}},"jsonrpc":"2.0","id":7}',
    '{"jsonrpc":"2.0","id":"a-1","method":"tools/list"}',
    '{"jsonrpc":"2.0","id":0,"method":"ping","params":{}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":5}}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":"t","other":[1]}}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":1.5}}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":null}}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{}}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":null}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":[]}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/related-task":{"taskId":"t"}}}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/related-task":{"taskId":3}}}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"task":{"ttl":5}}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[]}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"x"}',
    '{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
    '{"jsonrpc":"2.0","id":null,"method":"ping"}',
    '{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}',
    '{"jsonrpc":"2.0","id":true,"method":"ping"}',
    '{"jsonrpc":"2.0","id":1,"method":7}',
    '{"jsonrpc":"1.0","id":1,"method":"ping"}',
    '{"id":1,"method":"ping"}',
    '{"jsonrpc":"2.0","id":1,"method":"ping","extra":true}',
    '{"jsonrpc":"2.0","id":1,"method":"ping","__proto__":{"x":1}}',
    '{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}',
    '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3,"reason":"x"}}',
    '{"jsonrpc":"2.0","method":"notifications/progress","params":{"_meta":{"progressToken":"p"}}}',
    '{"jsonrpc":"2.0","id":4,"result":{"roots":[]}}',
    '{"jsonrpc":"2.0","id":4,"result":{"_meta":{"progressToken":{}}}}',
    '{"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"nope"}}',
    '{"jsonrpc":"2.0","error":{"code":-32700,"message":"parse"}}',
    '[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
    'not json',
    '42',
    'null',
  ];
  for (const line of lines) {
    it(`agrees with the SDK on ${line}`, () => {
      const { sdk, ours } = parseBoth(line, parseUpstreamMessage);
      assert.deepEqual(ours, sdk);
    });
  }

  it('a plain request or notification is not run through the message schema', () => {
    const parse = mock.method(JSONRPCMessageSchema, 'parse');
    try {
      parseUpstreamMessage('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo__echo","arguments":{"text":"hi"}}}');
      parseUpstreamMessage('{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":8}}}');
      parseUpstreamMessage('{"jsonrpc":"2.0","method":"notifications/initialized"}');
      assert.equal(parse.mock.callCount(), 0);
      parseUpstreamMessage('{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}}');
      assert.equal(parse.mock.callCount(), 1);
    } finally {
      mock.restoreAll();
    }
  });
});
