/**
 * What `npm start` prints once VS Code is up: where to go, the password, and what to look at.
 * The test of the quick start (test/e2e/quickStart.test.ts) reads it back with parseBanner, so
 * the format and its parser live together.
 */

export interface BannerInfo {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  password: string;
  /** Absolute path of the demo workspace (the folder VS Code opens). */
  demoDir: string;
  /** Seconds from `npm start` to this banner. */
  startedInSeconds: string;
}

export function formatBanner(info: BannerInfo): string {
  const call = (tool: string, arg: string): string =>
    `npx @modelcontextprotocol/inspector --cli node ../dist/cli.js bridge --method tools/call --tool-name ${tool} --tool-arg ${arg}`;
  return `
============================================================================================
Gatehouse is running in VS Code (code-server), demo workspace open (ready in ${info.startedInSeconds}):

  Open      ${info.url}
  Password  ${info.password}
            (new at every start, shown only here; code-server listens on 127.0.0.1 only)

What to look at (the gateway and its servers start once the page has loaded, ~20 s):
  1. Activity bar (left): the Gatehouse icon (a little gatehouse). Its view lists echo, memory
     and flaky, each "ready · N tools · closed"; expand one for pid, restarts, last exit.
  2. Status bar (bottom left): a shield and "3/3". It turns yellow or red when a server is
     down; click it for the dashboard (or palette: Gatehouse: Open Dashboard).
  3. Crash and recovery: 'flaky' exits after 3 calls. In a terminal (VS Code's own, Ctrl+\`,
     opens in ${info.demoDir}), call it a few times and watch the view and the status bar:
       for i in 1 2 3 4 5; do ${call('flaky__echo', 'text=hi$i')}; done
     (the MCP Inspector 2.x; it needs Node 22.19 or newer). The 4th call fails (the server
     died under it); Gatehouse respawns it at once and the 5th succeeds. Live state from the CLI: node ../dist/cli.js status
  4. Other clients: the view's "..." menu (or palette) > Gatehouse: Copy Client Configuration
     > Claude Code or Cursor: a config running \`gatehouse bridge\` against this very gateway,
     no token inside (this demo's copy works while npm start runs).

Press Ctrl-C to stop everything: code-server, the extension host, the gateway, every MCP server.
============================================================================================
`;
}

/** The URL and password from `npm start`'s output, once the banner is complete. */
export function parseBanner(output: string): { url: string; password: string } | undefined {
  const url = /^ {2}Open {6}(http:\/\/127\.0\.0\.1:\d+\/)\s*$/m.exec(output)?.[1];
  const password = /^ {2}Password {2}(\S+)\s*$/m.exec(output)?.[1];
  return url && password && output.includes('Press Ctrl-C to stop everything') ? { url, password } : undefined;
}
