import { parseArgs } from './args';
import { authCommand } from './authCommands';
import { bridge } from './bridge';
import { auditVerify, freezeCommand, trustCommand, unfreezeCommand } from './governanceCommands';
import { serve } from './serve';
import { status } from './status';

declare const GATEHOUSE_VERSION: string | undefined;
const version = typeof GATEHOUSE_VERSION === 'string' ? GATEHOUSE_VERSION : '0.1.0';

const USAGE = `Usage: gatehouse <command> [options]

Commands:
  serve                 run the gateway on stdio (for clients that spawn MCP servers)
  serve --http [--port N]
                        run the gateway on http://127.0.0.1:<port>/mcp (token in .gatehouse/gateway.json)
  bridge                stdio MCP server forwarding to the gateway running for this folder
  status [--json]       show the running gateway's live state (exit 0 all ready, 1 not, 2 none running)
  audit verify [--json] [--since audit-YYYYMMDD-HHMMSS.jsonl]
                        check the audit log's hash chain (exit 1 at the first broken link)
  audit verify --against F
                        compare it with a copy exported as OpenTelemetry logs (OTLP/JSON lines)
  freeze --reason "…"   engage the kill switch (HALT): every proxied call is denied
  unfreeze              release the kill switch
  trust list            show each server's fingerprint verdict (unchanged, first-seen, drifted)
  trust accept <server> accept a server whose command/args/env names changed
  auth login <server> [--no-browser] [--timeout S]
                        sign in to a remote server (OAuth): prints the URL, takes the redirect on 127.0.0.1
                        (waits S seconds for it, default 300)
  auth logout <server>  forget a remote server's tokens
  auth status [--json]  which remote servers are signed in (tokens: $XDG_CONFIG_HOME/gatehouse, 0600)

Options:
  --folder F            the project folder (default: the current directory)
  --dir D               the config directory (default: .gatehouse, or .rea when only that exists)
  --metrics-port N      (serve) Prometheus /metrics on 127.0.0.1:N; 0 picks a free port
  --profile NAME        (serve on stdio, bridge) only the servers and tools of registry profile NAME

Environment:
  GATEHOUSE_PORT          HTTP port for serve --http when --port is absent (default 0: any free port)
  GATEHOUSE_METRICS_PORT  as --metrics-port (metrics are off unless one of them is set)
  GATEHOUSE_LOG_LEVEL     trace, debug, info (default), warn or error; logs go to stderr
  REA_METRICS_PORT, REA_LOG_LEVEL  rea's names for the two above (ours win when both are set)
`;

/** The CLI entry: every command returns its exit code. */
async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const [command, sub] = args.positionals;
  switch (command) {
    case 'serve':
      return serve(args, version);
    case 'bridge':
      return bridge(args, version);
    case 'status':
      return status(args);
    case 'audit':
      if (sub === 'verify') return auditVerify(args);
      break;
    case 'freeze':
      return freezeCommand(args);
    case 'unfreeze':
      return unfreezeCommand(args);
    case 'trust':
      return trustCommand(args);
    case 'auth':
      return authCommand(args);
    case undefined:
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
  }
  process.stderr.write(`gatehouse: unknown command '${command}${sub ? ` ${sub}` : ''}'\n\n${USAGE}`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`gatehouse: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
