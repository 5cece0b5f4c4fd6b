// The gallery index on disk: an append-only journal of JSON records, one per line, each prefixed with the CRC-32
// of its JSON: `<8 hex digits> <json>\n`. Appends are fsync'ed. Loading replays every good line; a torn tail
// (a line cut by a crash, a bad checksum at the end) is cut off; a bad line in the middle is skipped and
// reported (the caller then reconciles with the PNG files, which are the truth). Compaction rewrites the live
// records into a new file (temp + fsync + rename), so the journal never grows without bound.
//
// Several processes may share one journal (the desktop app and `serve` default to the same output folder, and
// output folders are synced): every write happens under a lock file (see JournalLock) after catching up with
// what the others appended (refresh()); a compaction by another process shows as a new file (another inode),
// which refresh() reloads, so no one appends to a file that was replaced.
import * as nodeFs from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fsyncDir, realFs, writeFileAtomic, type AtomicFs } from '../durable/atomic-file.js';
import { crc32 } from '../durable/crc32.js';

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

export function encodeRecord(record: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(record), 'utf8');
  const line = Buffer.allocUnsafe(json.length + 10);
  line.write(hex8(crc32(json)), 0, 'latin1');
  line[8] = 0x20;
  json.copy(line, 9);
  line[line.length - 1] = 0x0a;
  return line;
}

export interface JournalLoad<T> {
  records: T[];
  /** Bytes of good records (where the next append goes). */
  goodBytes: number;
  /** Bytes cut off at the end (a torn last write). */
  tornBytes: number;
  /** Bad lines found before good ones (damaged file, not a crash). */
  corruptLines: number;
  /** The file was missing. */
  missing: boolean;
}

const HEX = (b: number): number => (b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : -1);

/** Parses journal bytes: every good record, the good length, and what was damaged. */
export function parseJournal<T>(buf: Uint8Array): Omit<JournalLoad<T>, 'missing'> {
  const records: T[] = [];
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  let goodBytes = 0;
  let badSinceGood = 0;
  let corruptLines = 0;
  while (pos < bytes.length) {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) {
      badSinceGood++; // a last line without its newline: torn
      break;
    }
    let ok = nl - pos >= 11 && bytes[pos + 8] === 0x20;
    if (ok) {
      let want = 0;
      for (let i = 0; i < 8; i++) {
        const h = HEX(bytes[pos + i]!);
        if (h < 0) {
          ok = false;
          break;
        }
        want = want * 16 + h;
      }
      if (ok && crc32(bytes, pos + 9, nl) === want) {
        try {
          records.push(JSON.parse(bytes.toString('utf8', pos + 9, nl)) as T);
        } catch {
          ok = false;
        }
      } else ok = false;
    }
    if (ok) {
      corruptLines += badSinceGood;
      badSinceGood = 0;
      goodBytes = nl + 1;
    } else {
      badSinceGood++;
    }
    pos = nl + 1;
  }
  // Bad lines after the last good one are a torn tail; goodBytes stops before them. Bad lines between good
  // ones were skipped (counted as corrupt); goodBytes then covers them, which is fine: they stay skipped.
  return { records, goodBytes, tornBytes: buf.length - goodBytes, corruptLines };
}

export interface JournalOptions {
  fs?: AtomicFs;
}

/** What refresh() found: records other processes appended, or (reset) the whole file when it was replaced. */
export interface JournalRefresh<T> {
  reset: boolean;
  /** The file this object had read is gone (deleted, not replaced): the caller may write it again. */
  vanished?: boolean;
  records: T[];
  corruptLines: number;
}

/**
 * One journal file. One writer at a time within a process (the gallery serializes its writes); between
 * processes, call append/rewrite only inside locked(), after refresh().
 */
export class Journal<T> {
  private handle: nodeFs.FileHandle | null = null;
  private size = 0;
  /** dev:ino of the file this object has read (a compaction elsewhere replaces it with another inode). */
  private identity: string | null = null;
  private readonly fs: AtomicFs;
  readonly lock: JournalLock;

  constructor(readonly file: string, options: JournalOptions = {}) {
    this.fs = options.fs ?? realFs;
    this.lock = new JournalLock(`${file}.lock`, this.fs);
  }

  /** Runs fn holding the journal's lock file (other processes wait). */
  async locked<R>(fn: () => Promise<R>): Promise<R> {
    await this.fs.mkdir(path.dirname(this.file), { recursive: true });
    await this.lock.acquire();
    try {
      return await fn();
    } finally {
      await this.lock.release();
    }
  }

  /**
   * Catches up with the file on disk (call holding the lock): the records appended since this object last read
   * or wrote it, or every record when another process replaced the file (compaction) or it shrank.
   */
  async refresh(): Promise<JournalRefresh<T>> {
    const st = await nodeFs.stat(this.file, { bigint: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    const none = { reset: false, records: [], corruptLines: 0 };
    if (!st) {
      if (this.identity === null && this.size === 0) return none;
      await this.close();
      this.identity = null;
      this.size = 0;
      return { reset: false, vanished: true, records: [], corruptLines: 0 };
    }
    if (this.identity !== `${st.dev}:${st.ino}` || Number(st.size) < this.size) {
      const loaded = await this.load();
      return { reset: true, records: loaded.records, corruptLines: loaded.corruptLines };
    }
    const end = Number(st.size);
    if (end === this.size) return none;
    const fh = await nodeFs.open(this.file, 'r');
    let tail: Buffer;
    try {
      tail = Buffer.alloc(end - this.size);
      const { bytesRead } = await fh.read(tail, 0, tail.length, this.size);
      tail = tail.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
    const parsed = parseJournal<T>(tail);
    // Holding the lock, a torn tail is a writer that died mid-append: cut it off like load() does.
    if (parsed.tornBytes > 0) await nodeFs.truncate(this.file, this.size + parsed.goodBytes);
    this.size += parsed.goodBytes;
    return { reset: false, records: parsed.records, corruptLines: parsed.corruptLines };
  }

  /** Reads every record; cuts a torn tail off the file so appends continue after the last good record. */
  async load(): Promise<JournalLoad<T>> {
    await this.close();
    let buf: Buffer;
    let fh: nodeFs.FileHandle;
    try {
      fh = await nodeFs.open(this.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.size = 0;
      this.identity = null;
      return { records: [], goodBytes: 0, tornBytes: 0, corruptLines: 0, missing: true };
    }
    try {
      const st = await fh.stat({ bigint: true });
      this.identity = `${st.dev}:${st.ino}`;
      buf = await fh.readFile();
    } finally {
      await fh.close();
    }
    const parsed = parseJournal<T>(buf);
    if (parsed.tornBytes > 0) await nodeFs.truncate(this.file, parsed.goodBytes);
    this.size = parsed.goodBytes;
    return { ...parsed, missing: false };
  }

  /** Bytes on disk (good records). */
  get bytes(): number {
    return this.size;
  }

  private async open(): Promise<nodeFs.FileHandle> {
    if (this.handle) return this.handle;
    await this.fs.mkdir(path.dirname(this.file), { recursive: true });
    const created = !(await nodeFs.stat(this.file).then(() => true, () => false));
    this.handle = await this.fs.open(this.file, 'a');
    const st = await this.handle.stat({ bigint: true });
    this.identity = `${st.dev}:${st.ino}`;
    if (created) await fsyncDir(path.dirname(this.file), this.fs);
    return this.handle;
  }

  /**
   * Appends records and fsyncs. On failure (disk full…) the file is cut back to where it was, so a half-written
   * line never stays between good ones; the error is rethrown.
   */
  async append(records: readonly T[]): Promise<void> {
    if (records.length === 0) return;
    const data = Buffer.concat(records.map((r) => encodeRecord(r)));
    const handle = await this.open();
    const before = this.size;
    try {
      let off = 0;
      while (off < data.length) {
        const { bytesWritten } = await handle.write(data, off, data.length - off);
        if (bytesWritten <= 0) throw Object.assign(new Error(`short write to ${this.file}`), { code: 'EIO' });
        off += bytesWritten;
      }
      await handle.datasync();
      this.size = before + data.length;
    } catch (error) {
      await handle.truncate(before).catch(() => undefined);
      await handle.datasync().catch(() => undefined);
      throw error;
    }
  }

  /** Replaces the file with exactly these records (temp file + fsync + rename + folder fsync). */
  async rewrite(records: readonly T[]): Promise<void> {
    const data = Buffer.concat(records.map((r) => encodeRecord(r)));
    await this.close();
    await this.fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, data, { fs: this.fs });
    const st = await nodeFs.stat(this.file, { bigint: true });
    this.identity = `${st.dev}:${st.ino}`;
    this.size = data.length;
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close().catch(() => undefined);
  }
}

/** Writers hold the lock for milliseconds; one older than this is taken over even when its owner looks alive (a reused pid, a lock synced from another machine). Bounds every wait. */
const LOCK_STALE_MS = 60_000;

interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
}

function isPidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The platform cannot make symlinks here (Windows without the privilege, some network or FAT file systems). */
const NO_SYMLINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EACCES']);

/**
 * A lock between processes (Node has no flock): a symbolic link whose target is the owner's JSON
 * `{pid, host, nonce}`. symlink() creates it whole or fails with EEXIST, and a short link takes no data block,
 * so it still works on a full disk. Where symlinks are not allowed it is a file created with 'wx'. A lock whose
 * owner is a dead process of this machine, or older than LOCK_STALE_MS, is stale: a waiter renames it away
 * (only one rename wins) and everyone tries again.
 */
export class JournalLock {
  private held: string | null = null;

  constructor(
    readonly file: string,
    private readonly fs: AtomicFs,
  ) {}

  async acquire(): Promise<void> {
    const me: LockOwner = { pid: process.pid, host: os.hostname(), nonce: randomBytes(8).toString('hex') };
    const body = JSON.stringify(me);
    for (let attempt = 0; ; attempt++) {
      if (await this.create(body)) {
        this.held = body;
        return;
      }
      if (await this.breakIfStale()) continue;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1 + attempt, 25)));
    }
  }

  async release(): Promise<void> {
    const body = this.held;
    this.held = null;
    if (body !== null && (await this.read(this.file)) === body) await this.fs.unlink(this.file).catch(() => undefined);
  }

  private async create(body: string): Promise<boolean> {
    try {
      await nodeFs.symlink(body, this.file);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (!code || !NO_SYMLINKS.has(code)) throw error;
    }
    try {
      await nodeFs.writeFile(this.file, body, { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  /** The lock's owner text (link target or file content); null when there is no lock. */
  private async read(file: string): Promise<string | null> {
    try {
      return await nodeFs.readlink(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      if (code !== 'EINVAL' && code !== 'UNKNOWN') throw error;
    }
    return nodeFs.readFile(file, 'utf8').catch(() => null);
  }

  /** Takes a stale lock away; true when there is no lock now (try again at once). */
  private async breakIfStale(): Promise<boolean> {
    const body = await this.read(this.file);
    if (body === null) return true;
    const st = await nodeFs.lstat(this.file).catch(() => null);
    if (!st) return true;
    let owner: Partial<LockOwner> = {};
    try {
      owner = JSON.parse(body) as Partial<LockOwner>;
    } catch {
      // unreadable (a crash while writing the 'wx' fallback): only its age tells
    }
    const dead = owner.host === os.hostname() && typeof owner.pid === 'number' && !isPidAlive(owner.pid);
    if (!dead && Date.now() - st.mtimeMs < LOCK_STALE_MS) return false;
    const aside = `${this.file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await this.fs.rename(this.file, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true; // another waiter broke it
      throw error;
    }
    // Between reading and renaming, another waiter may have broken it and a third taken it: give that one back.
    const taken = await this.read(aside);
    if (taken !== body && taken !== null) await this.create(taken).catch(() => undefined);
    await this.fs.unlink(aside).catch(() => undefined);
    return true;
  }
}
