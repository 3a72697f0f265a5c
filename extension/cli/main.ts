import { parseArgs } from './args';
import { bridge } from './bridge';
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

Options:
  --folder F            the project folder (default: the current directory)
  --dir D               the config directory (default: .gatehouse, or .rea when only that exists)
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
    case undefined:
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`gatehouse: unknown command '${command}${sub ? ` ${sub}` : ''}'\n\n${USAGE}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`gatehouse: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
