// `npm start -- --gateway-only` (or `node demo/gatewayOnly.mjs`): builds Gatehouse and runs only
// the CLI gateway on the demo workspace (demo/.gatehouse), on http://127.0.0.1:<port>/mcp, until
// Ctrl-C; no VS Code. Prints how to call a tool through it. Port: $GATEHOUSE_PORT (default: free).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = path.join(root, 'demo');
const cli = path.join(root, 'dist', 'cli.js');

console.log('Building Gatehouse…');
const build = spawnSync(process.execPath, [path.join(root, 'extension/build/esbuild.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) process.exit(build.status ?? 1);

const port = process.env.GATEHOUSE_PORT ?? '0';
const gateway = spawn(process.execPath, [cli, 'serve', '--http', '--port', port, '--folder', demo], { stdio: ['ignore', 'inherit', 'pipe'] });
let announced = false;
gateway.stderr.setEncoding('utf8').on('data', (text) => {
  process.stderr.write(text);
  const url = /listening on (http:\/\/\S+)/.exec(text)?.[1];
  if (url && !announced) {
    announced = true;
    console.log(`
Gatehouse is supervising the demo servers (echo, memory, flaky) behind ${url}
The bearer token is in demo/.gatehouse/gateway.json (mode 0600, git-ignored).

In another terminal, from ${root}:
  node dist/cli.js status --folder demo             live state of every server
  npx @modelcontextprotocol/inspector --cli node dist/cli.js bridge --folder demo --method tools/list
  npx @modelcontextprotocol/inspector --cli node dist/cli.js bridge --folder demo --method tools/call --tool-name echo__echo --tool-arg text=hello
  npx @modelcontextprotocol/inspector --cli node dist/cli.js bridge --folder demo --method tools/call --tool-name gatehouse__health
(The MCP Inspector 2.x needs Node 22.19 or newer.)

The 'flaky' server exits after 3 calls; call flaky__echo a few times and watch it come back.
Press Ctrl-C to stop (every child process is stopped with it).`);
  }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => gateway.kill(signal));
gateway.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
