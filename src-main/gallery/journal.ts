// The gallery index on disk: an append-only journal of JSON records, one per line, each prefixed with the CRC-32
// of its JSON: `<8 hex digits> <json>\n`. Appends are fsync'ed. Loading replays every good line; a torn tail
// (a line cut by a crash, a bad checksum at the end) is cut off; a bad line in the middle is skipped and
// reported (the caller then reconciles with the PNG files, which are the truth). Compaction rewrites the live
// records into a new file (temp + fsync + rename), so the journal never grows without bound.
import * as nodeFs from 'node:fs/promises';
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

/** One journal file. Not safe for two writers at once (the gallery serializes its writes). */
export class Journal<T> {
  private handle: nodeFs.FileHandle | null = null;
  private size = 0;
  private readonly fs: AtomicFs;

  constructor(readonly file: string, options: JournalOptions = {}) {
    this.fs = options.fs ?? realFs;
  }

  /** Reads every record; cuts a torn tail off the file so appends continue after the last good record. */
  async load(): Promise<JournalLoad<T>> {
    await this.close();
    let buf: Buffer;
    try {
      buf = await nodeFs.readFile(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.size = 0;
      return { records: [], goodBytes: 0, tornBytes: 0, corruptLines: 0, missing: true };
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
    this.size = data.length;
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close().catch(() => undefined);
  }
}
