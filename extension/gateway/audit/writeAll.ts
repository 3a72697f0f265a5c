import type { AuditFileHandle } from './auditFileSystem';

// A group write is one buffer; a short write must not leave half of it. Plain file plumbing,
// so it lives apart from the writer's chain logic (auditWriter.ts).

export async function writeAll(handle: AuditFileHandle, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    offset += bytesWritten;
  }
}
