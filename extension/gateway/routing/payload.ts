import type { CallToolResult, GetPromptResult, ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * The chain's out-going layers (size cap, redaction, injection scan) read and rewrite a tool
 * result's `content` parts. A prompt's messages and a resource's contents are carried through
 * them in that same shape — the payload — and turned back afterwards, so those layers apply to
 * every kind without knowing which one they see (DESIGN.md §5b).
 *
 * Prompt: one part per message (its `content`), the roles and the description alongside.
 * Resource: one `resource` part per content item. A blob whose MIME type is text (JSON, XML,
 * scripts, …) and whose bytes are valid UTF-8 is carried as text, so that redaction and the
 * injection scan see it, and encoded as a blob again on the way back.
 *
 * Parts a layer appends (the size cap's note, an injection warning) come back as an extra
 * `user` message, or an extra text content item of the URI that was read.
 */

type Part = CallToolResult['content'][number];
type Message = GetPromptResult['messages'][number];
type Contents = ReadResourceResult['contents'][number];

const ROLES_KEY = 'gatehouse/roles';
const BLOBS_KEY = 'gatehouse/blob_parts';

export function promptToPayload(result: GetPromptResult): CallToolResult {
  const payload: CallToolResult = {
    content: result.messages.map((m) => m.content as Part),
    _meta: { ...(result._meta ?? {}), [ROLES_KEY]: result.messages.map((m) => m.role) },
  };
  if (result.description !== undefined) payload.structuredContent = { description: result.description };
  return payload;
}

export function payloadToPrompt(payload: CallToolResult): GetPromptResult {
  const { [ROLES_KEY]: roles, ...meta } = payload._meta ?? {};
  const roleList = Array.isArray(roles) ? roles : [];
  const messages: Message[] = (payload.content ?? []).map((part, i) => ({
    role: roleList[i] === 'assistant' ? 'assistant' : 'user',
    content: part as Message['content'],
  }));
  const out: GetPromptResult = { messages };
  const description = (payload.structuredContent as { description?: unknown } | undefined)?.description;
  if (typeof description === 'string') out.description = description;
  if (Object.keys(meta).length > 0) out._meta = meta;
  return out;
}

const TEXTUAL_MIME = /^(text\/|application\/(json|xml|yaml|x-yaml|javascript|ecmascript|x-sh|toml|sql|graphql|x-www-form-urlencoded)\b|[^;]*\+(json|xml)\b)/i;

/** The blob as text when its MIME type says text and its bytes are valid UTF-8; else undefined. */
function blobText(blob: string, mimeType: string | undefined): string | undefined {
  if (!mimeType || !TEXTUAL_MIME.test(mimeType)) return undefined;
  const bytes = Buffer.from(blob, 'base64');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

export function resourceToPayload(result: ReadResourceResult): CallToolResult {
  const blobParts: number[] = [];
  const content = result.contents.map((c, i): Part => {
    if ('blob' in c && typeof c.blob === 'string') {
      const text = blobText(c.blob, c.mimeType);
      if (text !== undefined) {
        blobParts.push(i);
        const { blob: _blob, ...rest } = c;
        return { type: 'resource', resource: { ...rest, text } };
      }
    }
    return { type: 'resource', resource: c } as Part;
  });
  const meta: Record<string, unknown> = { ...(result._meta ?? {}) };
  if (blobParts.length > 0) meta[BLOBS_KEY] = blobParts;
  return { content, ...(Object.keys(meta).length > 0 ? { _meta: meta } : {}) };
}

export function payloadToResource(payload: CallToolResult, uri: string): ReadResourceResult {
  const { [BLOBS_KEY]: blobs, ...meta } = payload._meta ?? {};
  const blobParts = new Set(Array.isArray(blobs) ? blobs : []);
  const contents: Contents[] = (payload.content ?? []).map((part, i): Contents => {
    if (part.type === 'resource') {
      const r = part.resource;
      if (blobParts.has(i) && 'text' in r && typeof r.text === 'string') {
        const { text, ...rest } = r;
        return { ...rest, blob: Buffer.from(text, 'utf8').toString('base64') };
      }
      return r;
    }
    if (part.type === 'text') return { uri, mimeType: 'text/plain', text: part.text };
    return { uri, mimeType: 'text/plain', text: `[Gatehouse: a ${part.type} part cannot be a resource's content]` };
  });
  return { contents, ...(Object.keys(meta).length > 0 ? { _meta: meta } : {}) };
}
