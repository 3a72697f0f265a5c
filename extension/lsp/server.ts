/**
 * Entry of the config language server process (bundled as dist/lspServer.js). It runs apart
 * from the extension host so a slow parse or a crash never stalls the editor or the gateway.
 * The transport comes from the command line (`--node-ipc` from the client, `--stdio` in tests).
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { listenConfigServer } from './configServer';

const connection = createConnection(ProposedFeatures.all);

// Report, then let the process die: the client's restart policy decides what happens next.
process.on('uncaughtException', (err) => {
  connection.console.error(`uncaught exception: ${err.stack ?? String(err)}`);
  process.exit(1);
});

listenConfigServer(connection);
connection.listen();
