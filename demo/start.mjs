// `npm start`: Gatehouse in a real VS Code on the demo workspace, in one command (issue 8).
// Plain JS so that `node demo/start.mjs` needs no loader flag; the VS Code part reuses the e2e
// harness (TypeScript), loaded through tsx (a devDependency) registered in this very process,
// so Ctrl-C reaches one process that owns the whole shutdown.
const HELP = `Usage: npm start [-- OPTIONS]     (or: node demo/start.mjs [OPTIONS])

Builds Gatehouse, packages the .vsix, installs code-server (first time only: Node 24 and
code-server from npm into test/e2e/cache, about 150 s) and starts VS Code (code-server) on
127.0.0.1 with the extension installed and the demo workspace (demo/) open. Prints the URL and
a one-time password. Ctrl-C stops code-server, the extension host, the gateway and every MCP
server it started.

Options:
  --port N          code-server's port on 127.0.0.1 (default: a free port)
  --gateway-only    no VS Code: run only the CLI gateway on demo/.gatehouse, on
                    http://127.0.0.1:<port>/mcp ($GATEHOUSE_PORT, default a free port),
                    and print commands to call it (the former \`npm start\`)
  -h, --help        this text

Environment:
  GATEHOUSE_E2E_CACHE   where Node 24 + code-server are installed (default test/e2e/cache)
`;

function fail(message) {
  console.error(`${message}\n\n${HELP}`);
  process.exit(2);
}

const argv = process.argv.slice(2);
let port = 0;
let gatewayOnly = false;
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === '-h' || arg === '--help') {
    console.log(HELP);
    process.exit(0);
  } else if (arg === '--gateway-only') {
    gatewayOnly = true;
  } else if (arg === '--port' || arg.startsWith('--port=')) {
    const value = arg === '--port' ? argv[++i] : arg.slice('--port='.length);
    port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: not a port number: ${value}`);
  } else {
    fail(`Unknown option: ${arg}`);
  }
}

if (gatewayOnly) {
  await import('./gatewayOnly.mjs');
} else {
  await import('tsx');
  // tsx loads the .ts file as CommonJS (package.json has no "type"): its exports are `default`.
  const mod = await import('./startVsCode.ts');
  const { main } = mod.default ?? mod;
  await main({ port });
}
