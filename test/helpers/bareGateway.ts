import { nullLogger } from '../../extension/common/logger';
import { dispatch } from '../../extension/gateway/chain/dispatch';
import { Gateway, type GatewayOptions } from '../../extension/gateway/gateway';
import type { DownstreamDirectory } from '../../extension/pool/types';

/**
 * A gateway over `dir` with no governance (dispatch only) and an empty snapshot: for tests of
 * routing and transports, where the chain is not what is under test. `options` override.
 */
export function bareGateway(dir: DownstreamDirectory, options: Partial<GatewayOptions> = {}): Gateway {
  return new Gateway({
    pool: dir,
    sessionId: 's',
    layers: [dispatch(dir)],
    snapshot: () => ({ revision: 1, session_id: 's', started_at: '', downstreams: [], session_blocks: [] }),
    logger: nullLogger,
    ...options,
  });
}
