import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { parseBoth } from '../../helpers/sdkParseAgreement';
import { parseChildMessage } from '../../../extension/pool/childMessage';

describe('parseChildMessage', () => {
  const lines = [
    '{"result":{"content":[{"type":"text","text":"hi"}]},"jsonrpc":"2.0","id":7}',
    '{"jsonrpc":"2.0","id":"abc","result":{}}',
    '{"result":{"content":[],"_meta":{"progressToken":1}},"jsonrpc":"2.0","id":1}',
    '{"result":{"_meta":{"progressToken":{}}},"jsonrpc":"2.0","id":1}',
    '{"result":{"_meta":null},"jsonrpc":"2.0","id":1}',
    '{"result":{},"jsonrpc":"2.0","id":1.5}',
    '{"result":{},"jsonrpc":"2.0","id":null}',
    '{"result":{},"jsonrpc":"2.0","id":9007199254740993}',
    '{"result":[],"jsonrpc":"2.0","id":1}',
    '{"result":null,"jsonrpc":"2.0","id":1}',
    '{"result":"x","jsonrpc":"2.0","id":1}',
    '{"result":{},"jsonrpc":"1.0","id":1}',
    '{"result":{},"jsonrpc":"2.0","id":1,"extra":true}',
    '{"result":{},"jsonrpc":"2.0"}',
    '{"result":{},"jsonrpc":"2.0","__proto__":1}',
    '{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}}',
    '{"jsonrpc":"2.0","id":2,"method":"roots/list"}',
    '{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}',
    '[{"jsonrpc":"2.0","id":1,"result":{}}]',
    'not json',
    '42',
  ];
  for (const line of lines) {
    it(`agrees with the SDK on ${line}`, () => {
      const { sdk, ours } = parseBoth(line, parseChildMessage);
      assert.deepEqual(ours, sdk);
    });
  }

  it('a plain result answer is not run through the message schema', () => {
    const parse = mock.method(JSONRPCMessageSchema, 'parse');
    try {
      parseChildMessage('{"result":{"content":[{"type":"text","text":"hi"}]},"jsonrpc":"2.0","id":7}');
      assert.equal(parse.mock.callCount(), 0);
      parseChildMessage('{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}}');
      assert.equal(parse.mock.callCount(), 1);
    } finally {
      mock.restoreAll();
    }
  });
});
