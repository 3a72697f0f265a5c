import { HEALTH_TOOL_NAME } from '../healthTool';

/** The reserved server name: `gatehouse__*` names and `gatehouse://gatehouse/` belong to the gateway itself. */
export const RESERVED_SERVER = 'gatehouse';

/** What a prefixed name denotes, for the refusal texts: `tool`, `prompt`. */
export type NamedKind = 'tool' | 'prompt';

/**
 * Why a `<server>__<name>` name from the client goes nowhere, or undefined when `server` is a
 * configured server. One rule for tools and prompts (DESIGN.md §5b): refused before any
 * stateful layer, the valid servers named.
 */
export function nameRefusal(
  kind: NamedKind,
  server: string | undefined,
  name: string,
  servers: readonly string[],
): { code: string; message: string } | undefined {
  // Only a refusal names the servers: no list is joined for the calls that pass.
  const valid = (): string => (servers.length ? servers.join(', ') : '(none configured: add one to registry.yaml)');
  const Kind = kind === 'tool' ? 'Tool' : 'Prompt';
  if (server === undefined) {
    return {
      code: 'missing_prefix',
      message: `${Kind} '${name}' is missing the server prefix: expected <server>__<${kind}>. Servers: ${valid()}.`,
    };
  }
  if (server === RESERVED_SERVER) {
    const only = kind === 'tool' ? `the only tool there is ${HEALTH_TOOL_NAME}` : `Gatehouse has no ${kind}s of its own`;
    return { code: 'reserved_namespace', message: `'${name}' is in Gatehouse's reserved namespace; ${only}.` };
  }
  if (!servers.includes(server)) {
    return { code: 'unknown_server', message: `Unknown server '${server}' in '${name}'. Servers: ${valid()}.` };
  }
  return undefined;
}
