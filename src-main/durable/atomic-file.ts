// Crash-safe file writes: temp file in the same folder → write → fsync → rename over the target → fsync the
// folder. A reader sees the old file or the new one, never a torn one. The file system is injectable (tests
// simulate a full disk by making write() fail with ENOSPC).
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';

/** The subset of node:fs/promises these helpers use (inject a wrapper to simulate failures). */
export interface AtomicFs {
  open: typeof nodeFs.open;
  rename: typeof nodeFs.rename;
  unlink: typeof nodeFs.unlink;
  mkdir: typeof nodeFs.mkdir;
}

export const realFs: AtomicFs = { open: nodeFs.open, rename: nodeFs.rename, unlink: nodeFs.unlink, mkdir: nodeFs.mkdir };

let tmpCounter = 0;

/** `.name.tmp-<pid>-<n>`: hidden, same folder (rename stays on one file system), unique per writer. */
export function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${++tmpCounter}`);
}

/** True for the temp files tempNameFor makes (left behind by a crash; safe to delete when no writer runs). */
export function isTempName(name: string): boolean {
  return /^\..+\.tmp-\d+-\d+$/.test(name);
}

/** fsync a folder so a rename/create/unlink in it survives a power cut (a no-op where folders cannot be opened, e.g. Windows). */
export async function fsyncDir(dir: string, fs: AtomicFs = realFs): Promise<void> {
  let handle: nodeFs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export interface AtomicWriteOptions {
  fs?: AtomicFs;
  /** Skip the folder fsync (the caller syncs the folder once after several writes). */
  noDirSync?: boolean;
  /** Holds the temp file's path while it exists, so that a signal handler can remove it (the CLI on Ctrl+C). */
  pendingTemps?: Set<string>;
}

/** Writes bytes to a temp file, fsyncs it and renames it over `file`. On failure the temp file is removed and `file` is untouched. */
export async function writeFileAtomic(file: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  const fs = options.fs ?? realFs;
  const tmp = tempNameFor(file);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let handle: nodeFs.FileHandle | undefined;
  options.pendingTemps?.add(tmp);
  try {
    handle = await fs.open(tmp, 'wx', 0o644);
    let off = 0;
    while (off < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, off, bytes.byteLength - off);
      if (bytesWritten <= 0) throw Object.assign(new Error(`short write to ${tmp}`), { code: 'EIO' });
      off += bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw error;
  } finally {
    options.pendingTemps?.delete(tmp);
  }
  if (!options.noDirSync) await fsyncDir(path.dirname(file), fs);
}

/** Renames and fsyncs both folders (a move between folders of one file system). */
export async function moveFileDurable(from: string, to: string, fs: AtomicFs = realFs): Promise<void> {
  await fs.mkdir(path.dirname(to), { recursive: true });
  await fs.rename(from, to);
  await fsyncDir(path.dirname(to), fs);
  if (path.dirname(to) !== path.dirname(from)) await fsyncDir(path.dirname(from), fs);
}

/** A readable sentence for a failed write (disk full, read-only, permissions), naming the file. */
export function describeWriteError(error: unknown, file: string): string {
  const e = error as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOSPC':
      return `The disk is full: cannot write ${file}. Free some space; nothing saved earlier was lost.`;
    case 'EDQUOT':
      return `The disk quota is exceeded: cannot write ${file}.`;
    case 'EROFS':
      return `The folder is read-only: cannot write ${file}.`;
    case 'EACCES':
    case 'EPERM':
      return `No permission to write ${file}.`;
    default:
      return `Cannot write ${file}: ${e?.message ?? String(error)}`;
  }
}
