import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import type { AggregatedResource, AggregatedTemplate, ServerCatalog } from '../../pool/types';
import { RESERVED_SERVER } from './names';

/** Scheme and authority of a rewritten URI: `gatehouse://<server>/<original URI, verbatim>`. */
export const GATEHOUSE_URI_PREFIX = 'gatehouse://';

/** A resource URI as the client sees it, for `server`'s `original` URI (see {@link ResourceIndex}). */
export function wrapUri(server: string, original: string): string {
  return `${GATEHOUSE_URI_PREFIX}${server}/${original}`;
}

/** The server and original URI of a rewritten URI; undefined when `uri` is not one. */
export function unwrapUri(uri: string): { server: string; original: string } | undefined {
  if (!uri.toLowerCase().startsWith(GATEHOUSE_URI_PREFIX)) return undefined;
  const rest = uri.slice(GATEHOUSE_URI_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return { server: slash === 0 ? '' : rest, original: '' };
  return { server: rest.slice(0, slash), original: rest.slice(slash + 1) };
}

/** `demo` of `demo://x`; '' when the text does not start with a scheme (e.g. a template `{+uri}`). */
function schemeOf(uri: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  return m ? m[1]!.toLowerCase() : '';
}

/** Where a resource URI goes, or why it goes nowhere. */
export type ResourceRoute =
  | { server: string; uri: string; refusal?: undefined }
  | { refusal: { code: string; message: string }; server?: string; uri?: undefined };

/**
 * The aggregate of every server's resources and templates, and the reverse map a
 * `resources/read` (or subscribe, or a completion by template) is routed with.
 *
 * Naming rule — reversible, and a URI is changed only when it has to be:
 * - a listed resource keeps its URI when no other server lists the same URI; when two or more
 *   do, each is exposed as `gatehouse://<server>/<original URI>`;
 * - a template keeps its text when no other server uses its URI scheme (in a listed resource or
 *   a template): every URI the client builds from it then names one server by its scheme. When
 *   the scheme is shared (or the template starts with a variable), it is exposed as
 *   `gatehouse://<server>/<original template>`; the client expands the variables inside it as
 *   usual, and the gateway strips the prefix again.
 *
 * The original is appended verbatim, not percent-encoded: a template's `{variables}` must stay
 * expandable, and everything after `gatehouse://<server>/` is the original, so the rewrite is
 * undone by cutting the prefix off (`?` and `#` of the original included).
 *
 * Reading a URI: `gatehouse://<server>/…` goes to that server (unknown and reserved names are
 * refused as for tools); otherwise an exact listed URI; otherwise the one server using that
 * scheme; otherwise the one server whose template matches. Anything still ambiguous is refused
 * with the `gatehouse://` spellings to use.
 */
export class ResourceIndex {
  readonly resources: AggregatedResource[] = [];
  readonly templates: AggregatedTemplate[] = [];
  private readonly uriOwners = new Map<string, string[]>();
  private readonly schemeOwners = new Map<string, Set<string>>();
  private readonly originalTemplates: Array<{ server: string; template: UriTemplate }> = [];

  constructor(private readonly catalogs: readonly ServerCatalog[]) {
    for (const c of catalogs) {
      for (const r of c.resources) {
        const owners = this.uriOwners.get(r.uri) ?? [];
        if (!owners.includes(c.server)) owners.push(c.server);
        this.uriOwners.set(r.uri, owners);
        this.addScheme(schemeOf(r.uri), c.server);
      }
      for (const t of c.templates) {
        this.addScheme(schemeOf(t.uriTemplate), c.server);
        try {
          this.originalTemplates.push({ server: c.server, template: new UriTemplate(t.uriTemplate) });
        } catch {
          // A template the SDK cannot parse can still be listed; it just never matches.
        }
      }
    }
    for (const c of catalogs) {
      for (const r of c.resources) {
        const shared = (this.uriOwners.get(r.uri)?.length ?? 0) > 1;
        this.resources.push({ ...r, uri: shared ? wrapUri(c.server, r.uri) : r.uri, server: c.server, originalUri: r.uri });
      }
      for (const t of c.templates) {
        const scheme = schemeOf(t.uriTemplate);
        const shared = scheme === '' || (this.schemeOwners.get(scheme)?.size ?? 0) > 1;
        this.templates.push({
          ...t,
          uriTemplate: shared ? wrapUri(c.server, t.uriTemplate) : t.uriTemplate,
          server: c.server,
          originalTemplate: t.uriTemplate,
        });
      }
    }
  }

  /** Routes a URI from the client (see the class comment). `servers`: every configured server. */
  resolve(uri: string, servers: readonly string[]): ResourceRoute {
    const valid = servers.length ? servers.join(', ') : '(none configured: add one to registry.yaml)';
    const wrapped = unwrapUri(uri);
    if (wrapped) {
      if (wrapped.server === RESERVED_SERVER) {
        return { refusal: { code: 'reserved_namespace', message: `'${uri}' is in Gatehouse's reserved namespace; Gatehouse has no resources of its own.` } };
      }
      if (!wrapped.original) {
        return { refusal: { code: 'missing_prefix', message: `Resource '${uri}' does not name a resource: expected gatehouse://<server>/<uri>. Servers: ${valid}.` } };
      }
      if (!servers.includes(wrapped.server)) {
        return { refusal: { code: 'unknown_server', message: `Unknown server '${wrapped.server}' in '${uri}'. Servers: ${valid}.` } };
      }
      return { server: wrapped.server, uri: wrapped.original };
    }
    const listed = this.uriOwners.get(uri);
    if (listed?.length === 1) return { server: listed[0]!, uri };
    if (listed && listed.length > 1) return this.ambiguous(uri, listed);
    // The scheme first: a template kept unchanged promised that its scheme names its server.
    const byScheme = [...(this.schemeOwners.get(schemeOf(uri)) ?? [])];
    if (byScheme.length === 1) return { server: byScheme[0]!, uri };
    const matching = [...new Set(this.originalTemplates.filter((t) => matches(t.template, uri)).map((t) => t.server))];
    if (matching.length === 1) return { server: matching[0]!, uri };
    if (matching.length > 1) return this.ambiguous(uri, matching);
    if (byScheme.length > 1) return this.ambiguous(uri, byScheme);
    const offering = this.catalogs.filter((c) => c.capabilities.resources).map((c) => c.server);
    return {
      refusal: {
        code: 'unknown_resource',
        message:
          `No server lists or serves '${uri}'. Read it as gatehouse://<server>/${uri} to send it to one server` +
          ` (servers with resources: ${offering.length ? offering.join(', ') : 'none'}).`,
      },
    };
  }

  private ambiguous(uri: string, servers: readonly string[]): ResourceRoute {
    return {
      refusal: {
        code: 'ambiguous_resource',
        message: `'${uri}' could come from ${servers.join(' or ')}; read it as ${servers.map((s) => wrapUri(s, uri)).join(' or ')}.`,
      },
    };
  }

  private addScheme(scheme: string, server: string): void {
    if (!scheme) return;
    const owners = this.schemeOwners.get(scheme) ?? new Set<string>();
    owners.add(server);
    this.schemeOwners.set(scheme, owners);
  }
}

function matches(template: UriTemplate, uri: string): boolean {
  try {
    return template.match(uri) !== null;
  } catch {
    return false;
  }
}
