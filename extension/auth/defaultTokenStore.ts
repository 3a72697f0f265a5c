import { FileTokenStore, userConfigDir } from './fileTokenStore';
import type { TokenStore } from './tokenStore';

/** The gateway's store when none is injected: the user's tokens.json, watched for sign-ins made elsewhere. */
export function defaultTokenStore(env: NodeJS.ProcessEnv): TokenStore {
  const store = new FileTokenStore(userConfigDir(env));
  store.watch();
  return store;
}
