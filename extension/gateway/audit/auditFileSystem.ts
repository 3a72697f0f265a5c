import * as fsp from 'node:fs/promises';

/**
 * The part of an open file the audit writer uses. Node's `FileHandle` satisfies it; tests wrap
 * it to count reads and writes or to inject failures.
 */
export interface AuditFileHandle {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** Appends (the handle is opened with `a+`, so the position is always the end). */
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  /** `ino` tells whether the path still names the file this handle writes (rotation, deletion). */
  stat(): Promise<{ size: number; ino: number }>;
  sync(): Promise<void>;
  chmod(mode: number): Promise<void>;
  close(): Promise<void>;
}

/** The file-system operations of the audit writer, injectable for tests. */
export interface AuditFileSystem {
  open(path: string, flags: 'a+' | 'r', mode?: number): Promise<AuditFileHandle>;
  /** Rejects with ENOENT when `path` does not exist. */
  stat(path: string): Promise<{ size: number; ino: number }>;
  rename(from: string, to: string): Promise<void>;
  /** Creates `path` and its parents; no error when it exists. */
  mkdir(path: string): Promise<void>;
}

/** The real file system (fs/promises only: nothing here may block the extension host). */
export const nodeAuditFileSystem: AuditFileSystem = {
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  stat: (path) => fsp.stat(path),
  rename: (from, to) => fsp.rename(from, to),
  mkdir: async (path) => {
    await fsp.mkdir(path, { recursive: true, mode: 0o700 });
  },
};
