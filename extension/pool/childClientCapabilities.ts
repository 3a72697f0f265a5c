import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';

// A constant of the gateway's contract with its children (DESIGN.md §5b), kept out of
// connection.ts so the class file holds only the state machine.

/**
 * The client capabilities every child is initialized with: what the gateway can route to an
 * upstream client (DESIGN.md §5b). A child only uses them through the gateway, which answers
 * with an error naming the capability when no connected client declared it.
 */
export const CHILD_CLIENT_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
};
