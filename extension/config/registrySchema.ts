/**
 * Schema of `registry.yaml`: rea's format (SPEC §10.1) plus Gatehouse's additions (remote
 * servers, headers, cwd, per-server timeouts, keep_tools_when_down). Strict at every level —
 * a typo must fail loudly rather than silently doing nothing. Every field is described, because
 * the descriptions are the hover docs and the generated JSON Schema.
 *
 * Differences from rea, on purpose (SPEC §13 item 21):
 * - `version: 1` (a YAML number) is accepted and normalised to "1";
 * - duplicate server names are rejected instead of the last one silently winning;
 * - `${VAR}` syntax is checked in args, url and headers too, since we interpolate those.
 */
import { z } from 'zod';
import { checkInterpolationSyntax, ENV_NAME_PATTERN, SECRET_NAME_PATTERN } from './interpolate';
import { toolGlobProblem } from './toolGlob';
import { coded, type IssueParams } from './zodProblems';

/** Server names: they prefix tool names as `<server>__<tool>`, so no underscores. */
export const SERVER_NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/** Names a server may not take: `gatehouse__*` is the gateway's own tool namespace. */
export const RESERVED_SERVER_NAMES: readonly string[] = ['gatehouse'];

/** HTTP header field names (RFC 9110 token). */
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A valid name close to `name`, for the rename suggestion in the error message. */
export function suggestServerName(name: string): string {
  const fixed = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  return fixed && !RESERVED_SERVER_NAMES.includes(fixed) ? fixed : 'my-server';
}

function serverNameMessage(input: unknown): string {
  if (input === undefined) return coded('missing-key', "each server needs a name; add e.g. 'name: my-server'");
  if (typeof input !== 'string') return coded('invalid-type', "a server name must be a string such as 'my-server'");
  if (input === '') return coded('invalid-server-name', "a server name must not be empty; use something like 'my-server'");
  return coded(
    'invalid-server-name',
    `server names may use a-z, 0-9 and '-' only and must not start with '-'; rename '${input}' to '${suggestServerName(input)}'`,
  );
}

/** Adds an issue for a bad `${…}` in a string value, pointing at the placeholder itself. */
function checkTemplate(value: string, ctx: z.core.$RefinementCtx<string>): void {
  const err = checkInterpolationSyntax(value);
  if (!err) return;
  const params: IssueParams = { code: 'interpolation-syntax', span: { offset: err.offset, length: err.length } };
  ctx.addIssue({ code: 'custom', message: err.message, params, input: value });
}

/** A string that may contain `${NAME}` placeholders. */
const templated = (): z.ZodString => z.string().superRefine(checkTemplate);

const envName = z
  .string()
  .regex(/^[^=\0]+$/, {
    error: (iss) => coded('invalid-env-name', `environment variable name '${String(iss.input)}' must be non-empty and contain no '='; rename it`),
  });

const passthroughName = z
  .string()
  .regex(ENV_NAME_PATTERN, {
    error: (iss) =>
      coded(
        'invalid-env-name',
        `env_passthrough entries are variable names (A-Z, a-z, 0-9, '_', not starting with a digit); '${String(iss.input)}' is not one`,
      ),
  })
  .refine((name) => !SECRET_NAME_PATTERN.test(name), {
    error: (iss) =>
      coded(
        'secret-passthrough',
        `'${String(iss.input)}' looks like a secret, so it cannot be passed through; map it explicitly instead: env: { ${String(iss.input)}: "\${${String(iss.input)}}" }`,
      ),
  });

/** http(s) URL, allowing `${VAR}` parts (checked again after interpolation, at connect time). */
function checkUrl(value: string, ctx: z.core.$RefinementCtx<string>): void {
  const syntax = checkInterpolationSyntax(value);
  if (syntax) {
    checkTemplate(value, ctx);
    return;
  }
  // A URL whose scheme comes from a variable cannot be checked before interpolation.
  if (value.startsWith('${')) return;
  // Placeholders may stand for a host name or a port, which no single stand-in satisfies.
  const ok = ['placeholder', '1'].some((standIn) => {
    try {
      const url = new URL(value.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, standIn));
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  });
  if (!ok) {
    const params: IssueParams = { code: 'invalid-url' };
    ctx.addIssue({
      code: 'custom',
      message: `url must be an http:// or https:// address of a Streamable HTTP MCP endpoint, e.g. https://example.com/mcp; '${value}' is not`,
      params,
      input: value,
    });
  }
}

/** One tool-name glob (`*`, `?`); a bad one is an error on the pattern itself. */
const toolGlob = z.string().superRefine((value, ctx) => {
  const message = toolGlobProblem(value);
  if (message) ctx.addIssue({ code: 'custom', message, params: { code: 'invalid-tool-glob' } satisfies IssueParams, input: value });
});

const positiveMs = (what: string): z.ZodOptional<z.ZodInt> => z.int().positive().optional().describe(what);

/** One downstream server: a local command (stdio) or a remote `url` (Streamable HTTP). */
export const serverSchema = z
  .strictObject({
    name: z
      .string({ error: (iss) => serverNameMessage(iss.input) })
      .regex(SERVER_NAME_PATTERN, { error: (iss) => serverNameMessage(iss.input) })
      .refine((name) => !RESERVED_SERVER_NAMES.includes(name), {
        error: (iss) => coded('reserved-server-name', `'${String(iss.input)}' is reserved for the gateway's own tools; choose another name, e.g. '${String(iss.input)}-server'`),
      })
      .describe("Unique server name (a-z, 0-9, '-'); its tools are exposed as <name>__<tool>."),
    command: z
      .string()
      .regex(/\S/, { error: coded('invalid-command', "command must not be empty; give the program to start, e.g. 'npx'") })
      .optional()
      .describe('Program to start for a local (stdio) server, found on PATH; run directly, never through a shell. Exactly one of command or url.'),
    args: z.array(templated()).default([]).describe('Arguments passed to command, in order; values may use ${VAR}.'),
    env: z
      .record(envName, templated())
      .default({})
      .describe('Environment variables set for the server; values may use ${VAR} to copy from the host. Wins over everything inherited.'),
    env_passthrough: z
      .array(passthroughName)
      .default([])
      .describe('Host environment variables copied to the server when set. Secret-looking names are refused: map them through env instead.'),
    tier_overrides: z
      .record(z.string().min(1), z.enum(['read', 'write', 'destructive']))
      .default({})
      .describe("Per-tool tier (read, write or destructive) overriding the gateway's classification, keyed by the tool's own name."),
    enabled: z.boolean().default(true).describe('false keeps the entry (and its trust record) but does not start the server.'),
    url: z
      .string()
      .superRefine(checkUrl)
      .optional()
      .describe('http(s) URL of a remote Streamable HTTP MCP server. Exactly one of command or url; may use ${VAR}.'),
    headers: z
      .record(
        z.string().regex(HEADER_NAME_PATTERN, {
          error: (iss) => coded('invalid-header-name', `'${String(iss.input)}' is not a valid HTTP header name; use letters, digits and '-' (e.g. Authorization)`),
        }),
        templated(),
      )
      .optional()
      .describe('HTTP headers sent to a remote server; values may use ${VAR}, e.g. Authorization: "Bearer ${API_TOKEN}".'),
    auth: z
      .strictObject({
        provider: z
          .enum(['github', 'microsoft'])
          .optional()
          .describe('Sign in with this VS Code account (vscode.authentication) instead of an OAuth flow of our own; VS Code only.'),
        scopes: z.array(z.string().min(1)).optional().describe('OAuth scopes to ask for (default: what the server advertises).'),
        client_id: z
          .string()
          .min(1)
          .optional()
          .describe('A client registered by hand at the authorization server, for servers without dynamic client registration (public client, PKCE).'),
      })
      .optional()
      .describe('Sign-in of a remote server that needs OAuth. Without it, a server that answers 401 still gets the standard MCP sign-in (discovery, dynamic registration, PKCE).'),
    cwd: z
      .string()
      .min(1)
      .optional()
      .describe('Working directory of a local server; a relative path is resolved against the workspace folder.'),
    timeouts: z
      .strictObject({
        connect_ms: positiveMs('Milliseconds allowed to start and initialize the server (default: gateway.timeouts.connect_ms).'),
        call_ms: positiveMs('Milliseconds allowed for one tool call (default: gateway.timeouts.call_ms).'),
      })
      .optional()
      .describe("Per-server timeouts overriding the policy's gateway.timeouts."),
    keep_tools_when_down: z
      .boolean()
      .default(false)
      .describe("Keep listing this server's tools while it is down (calls fail fast) instead of hiding them."),
    tools: z
      .strictObject({
        include: z
          .array(toolGlob)
          .optional()
          .describe("Only these tools are listed (globs on the server's own tool names; '*' any run, '?' one character)."),
        exclude: z.array(toolGlob).optional().describe("These tools are never listed (globs on the server's own tool names); wins over include."),
      })
      .optional()
      .describe('Which of the server\'s tools clients see. A hidden tool is not listed, and a call to it is refused and audited as an unknown tool. Changing it does not restart the server.'),
  })
  .superRefine(
    (server, ctx) => {
      // Runs even when other fields failed (`when`), so a missing command is reported alongside them.
      // Presence, not validity: a mistyped `command: 3` is reported by its own issue, not as "missing".
      const hasCommand = server.command !== undefined;
      const hasUrl = server.url !== undefined;
      if (!hasCommand && !hasUrl) {
        const params: IssueParams = { code: 'missing-command' };
        ctx.addIssue({
          code: 'custom',
          message: "a server needs either 'command' (a program to start) or 'url' (a remote MCP endpoint); add one",
          params,
          input: server,
        });
      } else if (hasCommand && hasUrl) {
        const params: IssueParams = { code: 'command-and-url', at: 'key' };
        ctx.addIssue({
          code: 'custom',
          path: ['url'],
          message: "a server has either 'command' (local) or 'url' (remote), not both; remove one",
          params,
          input: server,
        });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  )
  .describe('A downstream MCP server.');

/** Reports the second and later uses of a name, pointing back at the first. */
function checkDuplicateNames(servers: readonly unknown[], ctx: z.core.$RefinementCtx<unknown[]>): void {
  const first = new Map<string, number>();
  servers.forEach((server, index) => {
    const name = typeof server === 'object' && server !== null ? (server as { name?: unknown }).name : undefined;
    if (typeof name !== 'string' || name === '') return;
    const previous = first.get(name);
    if (previous === undefined) {
      first.set(name, index);
      return;
    }
    const where = `servers[${previous}]`;
    const params: IssueParams = { code: 'duplicate-server-name', related: { path: ['servers', previous, 'name'], text: where } };
    ctx.addIssue({
      code: 'custom',
      path: [index, 'name'],
      message: `server name '${name}' is already used on ${where}; names must be unique, so rename or remove one of them`,
      params,
      input: name,
    });
  });
}

/** A client profile: its own endpoint serving a subset of the servers and tools. */
const profileSchema = z
  .strictObject({
    servers: z
      .array(z.string())
      .optional()
      .describe('Servers this profile serves (names from servers:); all servers when absent.'),
    tools: z
      .array(toolGlob)
      .optional()
      .describe("Only tools matching these globs on the exposed name <server>__<tool>, e.g. 'github__read_*'; all tools of the profile's servers when absent."),
  })
  .describe('A client profile, served at /mcp/<profile>, `gatehouse serve --profile <profile>` and `gatehouse bridge --profile <profile>`.');

const profileName = z.string().regex(SERVER_NAME_PATTERN, {
  error: (iss) => coded('invalid-profile-name', `profile names may use a-z, 0-9 and '-' only and must not start with '-'; rename '${String(iss.input)}'`),
});

/** A profile naming a server that the registry does not have is an error on that name. */
function checkProfileServers(registry: { servers?: unknown; profiles?: unknown }, ctx: z.core.$RefinementCtx<unknown>): void {
  const servers = Array.isArray(registry.servers) ? registry.servers : [];
  const known = servers.map((s: unknown) => (typeof s === 'object' && s !== null ? (s as { name?: unknown }).name : undefined)).filter((n): n is string => typeof n === 'string');
  const profiles = typeof registry.profiles === 'object' && registry.profiles !== null ? (registry.profiles as Record<string, unknown>) : {};
  for (const [name, profile] of Object.entries(profiles)) {
    const listed = typeof profile === 'object' && profile !== null ? (profile as { servers?: unknown }).servers : undefined;
    if (!Array.isArray(listed)) continue;
    listed.forEach((server: unknown, index) => {
      if (typeof server !== 'string' || known.includes(server)) return;
      const params: IssueParams = { code: 'unknown-profile-server' };
      ctx.addIssue({
        code: 'custom',
        path: ['profiles', name, 'servers', index],
        message: `profile '${name}' names server '${server}', which is not in servers:; known servers: ${known.join(', ') || '(none)'}`,
        params,
        input: server,
      });
    });
  }
}

/** The whole `registry.yaml`. */
export const registrySchema = z
  .strictObject({
    version: z
      .union([z.literal('1'), z.literal(1)], {
        error: (iss) =>
          iss.input === undefined
            ? coded('missing-key', `missing 'version'; add version: "1" at the top of the file`)
            : coded('invalid-version', `version must be "1" (write version: "1")`),
      })
      .transform((): '1' => '1')
      .describe('Format version; always "1" (the number 1 is accepted too).'),
    reviewer: z.string().optional().describe('rea code-review setting (codex or claude-self); ignored by Gatehouse.'),
    servers: z
      .array(serverSchema)
      .superRefine(checkDuplicateNames, { when: (payload) => Array.isArray(payload.value) })
      .default([])
      .describe('The downstream MCP servers behind the gateway.'),
    profiles: z
      .record(profileName, profileSchema)
      .optional()
      .describe('Client profiles: each name is its own MCP endpoint serving a subset of servers and tools; the default endpoint keeps serving everything.'),
  })
  .superRefine(checkProfileServers, { when: (payload) => typeof payload.value === 'object' && payload.value !== null })
  .describe('Gatehouse / rea registry of downstream MCP servers.');

/** A validated registry (defaults filled, version normalised). */
export type Registry = z.output<typeof registrySchema>;

/** One validated server entry. */
export type ServerConfig = Registry['servers'][number];
