// Types for setup.mjs (plain JS so that .ci/install-e2e.sh can run it with no TypeScript loader).
export declare const NODE_VERSION: string;
export declare const CODE_SERVER_VERSION: string;
export declare const CACHE_DIR: string;
export declare const MARKER: string;
export declare const NATIVE_MODULES: readonly string[];
export interface SetupMarker {
  layout: number;
  node: string;
  codeServer: string;
  /** 'full' when the native modules built; 'ignore-scripts' for the fallback install. */
  mode: 'full' | 'ignore-scripts';
  /** Native modules of NATIVE_MODULES with no built binary (none after a full install). */
  missingNatives: string[];
  nodeDir: string;
  nodeBin: string;
  codeServerDir: string;
  entry: string;
  installedAt: string;
  seconds: number;
}
/** `env` minus the variables an enclosing npm run-script sets to describe itself (its user agent, script, package). */
export declare function withoutOuterNpm(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
export declare function readyMarker(): SetupMarker | undefined;
export declare function setup(options?: { force?: boolean }): Promise<SetupMarker>;
