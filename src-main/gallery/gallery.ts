// The gallery: every finished image as a PNG in the output folder (the truth), a thumbnail beside it in
// `.thumbnails/`, and an index (an append-only journal, see journal.ts) that makes listing and searching fast
// and can always be rebuilt from the PNGs.
//
//   <output>/2026-11-26/20261126-231502-123-42.png      images, one folder per day (id = path without .png)
//   <output>/.thumbnails/2026-11-26/….webp               256 px thumbnails (derived; made again when missing)
//   <output>/.trash/2026-11-26/….png                     deleted images until purged (restorable)
//   <output>/.latent-studio/index.journal                the index
//
// Crash safety: an image is written to a temp file, fsync'ed, renamed into place (folder fsync'ed), and only
// then journaled. A kill between the two leaves a PNG the index does not know: reconcile() (run after open)
// adds it. Moves to and from the trash are renames followed by a journal record; reconcile() trusts where the
// file is. A torn journal tail is cut off on load.
//
// Ownership: the folder may be shared with anything (a user's Pictures, a synced folder, another Latent Studio
// process), and the journal is input like any file. The gallery only indexes, moves, serves and deletes files
// named by its own scheme (isGalleryId), inside the folder once links are resolved; it adopts an unindexed file
// only when it carries our `latent-studio` chunk or lies in a day folder the gallery marked as its own. Names
// are claimed with link() (fails when taken), and every write runs under the journal's lock after catching up
// with what other processes wrote.
import { readdir, readFile, unlink, access, open, link, lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { describeWriteError, fsyncDir, moveFileDurable, realFs, tempNameFor, writeFileAtomic, type AtomicFs } from '../durable/atomic-file.js';
import type { GalleryCounts, GalleryItem, GalleryPage, GalleryQuery, GalleryRebuildResult, ImportedParameters } from '../shared/gallery.js';
import { Journal } from './journal.js';
import { isCompletePng, pngSize, readImageParameters } from './parameters.js';
import { pngThumbnailer, type Thumbnailer } from './png-lite.js';

/** What the journal stores per image: GalleryItem without the fields derived from where the file is and the star records. */
export type StoredEntry = Omit<GalleryItem, 'file' | 'starred' | 'trashed'>;

export type JournalRecord =
  | { op: 'put'; e: StoredEntry; starred?: boolean; trashed?: boolean }
  | { op: 'star'; id: string; v: boolean }
  | { op: 'trash'; id: string; v: boolean }
  | { op: 'del'; id: string };

interface Live {
  e: StoredEntry;
  starred: boolean;
  trashed: boolean;
  /** Lower-cased searchable text (made on the first search, not at open). */
  hay: string | null;
}

export type GalleryChangeReason = 'added' | 'updated' | 'trashed' | 'restored' | 'purged' | 'rebuilt' | 'folder';
export interface GalleryChange {
  revision: number;
  reason: GalleryChangeReason;
  ids: string[];
}

export class GalleryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GalleryError';
  }
}

export interface GalleryOptions {
  /** Injectable file system (tests simulate a full disk). */
  fs?: AtomicFs;
  /** Thumbnail edge (default 256). */
  thumbnailSize?: number;
  /**
   * Makes thumbnails (default: pure-JS PNG, safe in the Electron main process). Node hosts may pass a sharp
   * WebP one (smaller files).
   */
  thumbnailer?: Thumbnailer;
  /** Make thumbnails right after add (default true; the bench turns it off). */
  thumbnails?: boolean;
  log?: (level: 'info' | 'warning' | 'error', message: string) => void;
}

export interface OpenReport {
  entries: number;
  /** Bytes of a torn journal tail that were cut off. */
  tornBytes: number;
  corruptLines: number;
  /** The journal was missing or damaged: reconcile() will rebuild what it lacks. */
  needsReconcile: boolean;
  ms: number;
}

export interface AddOptions {
  /** ms since epoch (default now). */
  createdAt?: number;
  /** Already known parameters (skips reading the PNG's chunks). */
  parameters?: ImportedParameters;
}

const JOURNAL = path.join('.latent-studio', 'index.journal');
/** `<output>/.latent-studio/days/<day>`: an empty file per day folder the gallery made (live or trash); PNGs there are ours even without our chunk. */
const DAY_MARKERS = path.join('.latent-studio', 'days');
const DAY = /^\d{4}-\d\d-\d\d$/;
const STEM = /^\d{8}-\d{6}-\d{3}(?:-[0-9A-Za-z_.+-]{1,64})?$/;
/** writeNew's temp files (tempNameFor of an image): `.<stem>.png.tmp-<pid>-<n>`. */
const OWN_TEMP = /^\.(.+)\.png\.tmp-(\d+)-\d+$/;

/** True for the gallery's own image ids, `<YYYY-MM-DD>/<YYYYMMDD-HHMMSS-mmm>[-seed][-n]`: no other path is ever touched. */
export function isGalleryId(id: unknown): id is string {
  if (typeof id !== 'string') return false;
  const slash = id.indexOf('/');
  return slash > 0 && DAY.test(id.slice(0, slash)) && STEM.test(id.slice(slash + 1));
}

function checkedId(id: string): string {
  if (!isGalleryId(id)) throw new GalleryError('not-found', `No image ${JSON.stringify(id)} in the gallery.`);
  return id;
}

const SOURCES = new Set<unknown>(['latent-studio', 'a1111', 'comfyui', 'invokeai', 'unknown']);

/** A journal record read from disk, checked field by field (the journal lives in a shared folder); null when unusable. */
function checkedRecord(r: unknown): JournalRecord | null {
  if (!r || typeof r !== 'object') return null;
  const rec = r as Record<string, unknown>;
  const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
  switch (rec['op']) {
    case 'put': {
      const e = rec['e'] as Record<string, unknown> | null;
      if (!e || typeof e !== 'object' || !isGalleryId(e['id'])) return null;
      const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
      const entry: StoredEntry = {
        id: e['id'],
        createdAt: num(e['createdAt']) ?? createdAtFromId(e['id']) ?? 0,
        width: num(e['width']) ?? 0,
        height: num(e['height']) ?? 0,
        bytes: num(e['bytes']) ?? 0,
        source: SOURCES.has(e['source'] as string) ? (e['source'] as StoredEntry['source']) : 'unknown',
        prompt: str(e['prompt']) ?? '',
        negativePrompt: str(e['negativePrompt']) ?? '',
      };
      // Only the known fields, each of its type: the entry goes to the renderer as it is.
      for (const k of ['model', 'sampler', 'seed'] as const) if (str(e[k]) !== undefined) entry[k] = str(e[k]);
      for (const k of ['steps', 'cfgScale', 'strength'] as const) if (num(e[k]) !== undefined) entry[k] = num(e[k]);
      const starred = bool(rec['starred']);
      const trashed = bool(rec['trashed']);
      return { op: 'put', e: entry, ...(starred !== undefined ? { starred } : {}), ...(trashed !== undefined ? { trashed } : {}) };
    }
    case 'star':
    case 'trash': {
      const v = bool(rec['v']);
      return isGalleryId(rec['id']) && v !== undefined ? { op: rec['op'], id: rec['id'], v } : null;
    }
    case 'del':
      return isGalleryId(rec['id']) ? { op: 'del', id: rec['id'] } : null;
    default:
      return null;
  }
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function haystack(e: StoredEntry): string {
  return `${e.prompt}\n${e.negativePrompt}\n${e.model ?? ''}\n${e.sampler ?? ''}\n${e.seed ?? ''}`.toLowerCase();
}

function entryFrom(id: string, params: ImportedParameters, png: Uint8Array, createdAt: number, bytes: number): StoredEntry {
  const size = pngSize(png);
  const e: StoredEntry = {
    id,
    createdAt,
    width: size?.width ?? params.width ?? 0,
    height: size?.height ?? params.height ?? 0,
    bytes,
    source: params.source,
    prompt: params.prompt,
    negativePrompt: params.negativePrompt,
  };
  if (params.model !== undefined) e.model = params.model;
  if (params.sampler !== undefined || params.samplerName !== undefined) e.sampler = params.sampler ?? params.samplerName!;
  if (params.steps !== undefined) e.steps = params.steps;
  if (params.cfgScale !== undefined) e.cfgScale = params.cfgScale;
  if (params.seed !== undefined) e.seed = params.seed;
  if (params.strength !== undefined) e.strength = params.strength;
  return e;
}

/** The time in one of our file names (YYYYMMDD-HHMMSS-mmm, local time), so a rebuilt index keeps the order. */
export function createdAtFromId(id: string): number | undefined {
  const m = /(?:^|\/)(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)-(\d{3})(?:-|$)/.exec(id);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  const t = new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  return Number.isFinite(t) ? t : undefined;
}

function isPidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return true; // not a pid we can judge: keep the file
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const compare = (a: Live, b: Live): number => a.e.createdAt - b.e.createdAt || (a.e.id < b.e.id ? -1 : a.e.id > b.e.id ? 1 : 0);

export class Gallery {
  readonly journal: Journal<JournalRecord>;
  readonly trashDir: string;
  readonly thumbsDir: string;
  /** Newest last. */
  private order: Live[] = [];
  private readonly byId = new Map<string, Live>();
  private records = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private thumbChain: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(c: GalleryChange) => void>();
  readonly thumbnailer: Thumbnailer;
  private countsCache: { revision: number; counts: GalleryCounts } | null = null;
  private closed = false;
  private lastStamp = '';
  /** The output folder with links resolved (set by open): every file the gallery touches must resolve inside it. */
  private realDir = '';
  /** Day folders known to carry DAY_MARKER. */
  private readonly markedDays = new Set<string>();
  revision = 0;
  readonly fs: AtomicFs;

  private constructor(
    readonly dir: string,
    private readonly options: GalleryOptions,
  ) {
    this.fs = options.fs ?? realFs;
    this.thumbnailer = options.thumbnailer ?? pngThumbnailer;
    this.journal = new Journal<JournalRecord>(path.join(dir, JOURNAL), { fs: this.fs });
    this.trashDir = path.join(dir, '.trash');
    this.thumbsDir = path.join(dir, '.thumbnails');
  }

  /** Opens (creating) the output folder and loads the index. Run reconcile() afterwards (it may take a while on a big folder). */
  static async open(dir: string, options: GalleryOptions = {}): Promise<{ gallery: Gallery; report: OpenReport }> {
    const t0 = performance.now();
    const g = new Gallery(path.resolve(dir), options);
    await g.fs.mkdir(g.dir, { recursive: true });
    g.realDir = await realpath(g.dir);
    // A torn tail is only cut while no one appends; a folder that cannot take the lock (read-only) is still browsable.
    const loaded = await g.journal.locked(() => g.journal.load()).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EROFS' || error.code === 'EACCES' || error.code === 'EPERM') return g.journal.load();
      throw error;
    });
    g.replay(loaded.records);
    if (loaded.tornBytes > 0) g.log('warning', `gallery index ${g.journal.file}: cut off a torn last write (${loaded.tornBytes} bytes).`);
    if (loaded.corruptLines > 0) g.log('warning', `gallery index ${g.journal.file}: skipped ${loaded.corruptLines} damaged record(s); rescanning the folder.`);
    return {
      gallery: g,
      report: {
        entries: g.byId.size,
        tornBytes: loaded.tornBytes,
        corruptLines: loaded.corruptLines,
        needsReconcile: loaded.missing || loaded.corruptLines > 0,
        ms: performance.now() - t0,
      },
    };
  }

  private log(level: 'info' | 'warning' | 'error', message: string): void {
    this.options.log?.(level, message);
  }

  onChange(listener: (c: GalleryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(reason: GalleryChangeReason, ids: string[]): void {
    this.revision++;
    const c = { revision: this.revision, reason, ids };
    for (const l of this.listeners) {
      try {
        l(c);
      } catch {
        // a listener's problem
      }
    }
  }

  /**
   * Runs fn after every earlier write (one writer at a time in this process), holding the journal's lock (one
   * writer among processes) and after taking in what other processes wrote since.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(async () => {
      if (this.closed) throw new GalleryError('closed', 'The gallery is closed.');
      try {
        await this.fs.mkdir(path.dirname(this.journal.file), { recursive: true });
        await this.journal.lock.acquire();
      } catch (error) {
        throw this.writeError(error, this.journal.lock.file);
      }
      try {
        await this.catchUp();
        return await fn();
      } finally {
        await this.journal.lock.release().catch(() => undefined);
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Applies what other processes appended to the journal (or all of it, when one of them compacted it). */
  private async catchUp(): Promise<void> {
    const fresh = await this.journal.refresh();
    if (fresh.vanished) {
      // Deleted under us (a user, a sync tool): write what this process knows back, rather than start empty.
      this.log('warning', `gallery index ${this.journal.file} disappeared; writing it again.`);
      await this.compactNow();
      return;
    }
    if (fresh.corruptLines > 0) this.log('warning', `gallery index ${this.journal.file}: skipped ${fresh.corruptLines} damaged record(s).`);
    if (!fresh.reset && fresh.records.length === 0) return;
    if (fresh.reset) {
      this.byId.clear();
      this.records = 0;
    }
    this.replay(fresh.records);
    this.countsCache = null;
    this.changed('rebuilt', []);
  }

  /* ---- in-memory index ------------------------------------------------------------------------- */

  private replay(records: readonly JournalRecord[]): void {
    const map = this.byId;
    for (const raw of records) {
      const r = checkedRecord(raw);
      if (!r) continue;
      switch (r.op) {
        case 'put': {
          const old = map.get(r.e.id);
          map.set(r.e.id, { e: r.e, starred: r.starred ?? old?.starred ?? false, trashed: r.trashed ?? old?.trashed ?? false, hay: null });
          break;
        }
        case 'star': {
          const l = map.get(r.id);
          if (l) l.starred = r.v;
          break;
        }
        case 'trash': {
          const l = map.get(r.id);
          if (l) l.trashed = r.v;
          break;
        }
        case 'del':
          map.delete(r.id);
          break;
      }
    }
    this.records += records.length;
    this.order = [...map.values()].sort(compare);
  }

  /** Applies records in memory (after they are on disk). */
  private apply(records: readonly JournalRecord[]): void {
    let resort = false;
    for (const r of records) {
      if (r.op === 'put') {
        const old = this.byId.get(r.e.id);
        const live: Live = { e: r.e, starred: r.starred ?? old?.starred ?? false, trashed: r.trashed ?? old?.trashed ?? false, hay: null };
        this.byId.set(r.e.id, live);
        if (old) {
          const i = this.order.indexOf(old);
          if (i >= 0) this.order.splice(i, 1);
        }
        const last = this.order[this.order.length - 1];
        if (!last || compare(last, live) <= 0) this.order.push(live);
        else {
          this.order.push(live);
          resort = true;
        }
      } else if (r.op === 'del') {
        const old = this.byId.get(r.id);
        if (old) {
          this.byId.delete(r.id);
          const i = this.order.indexOf(old);
          if (i >= 0) this.order.splice(i, 1);
        }
      } else {
        const l = this.byId.get(r.id);
        if (l) {
          if (r.op === 'star') l.starred = r.v;
          else l.trashed = r.v;
        }
      }
    }
    if (resort) this.order.sort(compare);
    this.records += records.length;
    this.countsCache = null;
  }

  private async commit(records: JournalRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.journal.append(records);
    this.apply(records);
    if (this.records > 2 * this.byId.size + 1000) await this.compactNow();
  }

  /** Rewrites the journal with one record per live image. */
  compact(): Promise<void> {
    return this.exclusive(() => this.compactNow());
  }

  private async compactNow(): Promise<void> {
    const records: JournalRecord[] = this.order.map((l) => ({ op: 'put', e: l.e, ...(l.starred ? { starred: true } : {}), ...(l.trashed ? { trashed: true } : {}) }));
    await this.journal.rewrite(records);
    this.records = records.length;
  }

  /* ---- paths ----------------------------------------------------------------------------------- */

  /** Where an image's PNG is (in the trash while trashed). Throws for anything but one of our ids. */
  fileOf(id: string, trashed = this.byId.get(id)?.trashed ?? false): string {
    return path.join(trashed ? this.trashDir : this.dir, ...checkedId(id).split('/')) + '.png';
  }

  thumbnailFile(id: string, ext: string = this.thumbnailer.ext): string {
    return path.join(this.thumbsDir, ...checkedId(id).split('/')) + `.${ext}`;
  }

  /**
   * Proves `file` (a path made by fileOf/thumbnailFile) is the gallery's own: its folder resolves to the same
   * place under the folder's real path (no link on the way out) and it is not itself a link. Errors: GalleryError
   * 'outside-folder'; ENOENT (folder missing) passes through.
   */
  private async inside(file: string): Promise<string> {
    const rel = path.relative(this.dir, path.dirname(file));
    const real = await realpath(path.dirname(file));
    const st = await lstat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (real !== path.join(this.realDir, rel) || (st && !st.isFile())) {
      throw new GalleryError('outside-folder', `${file} is a link or leads out of ${this.dir}; the gallery leaves it alone.`, file);
    }
    return file;
  }

  /** Makes (if needed) a folder under the output folder one level at a time, checking that none is a link that leads out. */
  private async ownDir(...parts: string[]): Promise<string> {
    let dir = this.dir;
    for (const part of parts) {
      const parent = dir;
      dir = path.join(dir, part);
      let created = false;
      try {
        await this.fs.mkdir(dir);
        created = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      if ((await realpath(dir)) !== path.join(this.realDir, path.relative(this.dir, dir))) {
        throw new GalleryError('outside-folder', `${dir} is a link that leads out of ${this.dir}; the gallery does not write there.`, dir);
      }
      if (created) await fsyncDir(parent, this.fs);
    }
    return dir;
  }

  /** A day folder for images (live or trash), marked as the gallery's own (before any image goes in). */
  private async dayDir(trashed: boolean, day: string): Promise<string> {
    if (!this.markedDays.has(day)) {
      const markers = path.join(this.dir, DAY_MARKERS);
      await this.fs.mkdir(markers, { recursive: true });
      await (await this.fs.open(path.join(markers, day), 'a')).close();
      await fsyncDir(markers, this.fs);
      this.markedDays.add(day);
    }
    return trashed ? this.ownDir('.trash', day) : this.ownDir(day);
  }

  private toItem(l: Live): GalleryItem {
    return { ...l.e, file: this.fileOf(l.e.id, l.trashed), starred: l.starred, trashed: l.trashed };
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): GalleryItem | undefined {
    const l = this.byId.get(id);
    return l ? this.toItem(l) : undefined;
  }

  /** Every image, oldest first (tests, tools). */
  all(): GalleryItem[] {
    return this.order.map((l) => this.toItem(l));
  }

  /* ---- adding ---------------------------------------------------------------------------------- */

  private newId(createdAt: number, seed: string | undefined): string {
    const d = new Date(createdAt);
    const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}-${pad(d.getMilliseconds(), 3)}`;
    const safeSeed = seed?.replace(/[^0-9A-Za-z_.+-]/g, '').slice(0, 24);
    return `${day}/${stamp}${safeSeed ? `-${safeSeed}` : ''}`;
  }

  /**
   * Saves a PNG into the output folder (temp + fsync + rename + folder fsync), then journals it. Resolves once
   * both are on disk. Errors: GalleryError 'disk-full' / 'write-failed' (nothing is left behind).
   */
  add(png: Uint8Array, options: AddOptions = {}): Promise<GalleryItem> {
    return this.exclusive(async () => {
      if (!isCompletePng(png)) throw new GalleryError('bad-image', 'Not a complete PNG file.');
      const params = options.parameters ?? readImageParameters(png);
      const createdAt = options.createdAt ?? Date.now();
      const base = this.newId(createdAt, params.seed);
      let id = base;
      try {
        await this.dayDir(false, base.slice(0, base.indexOf('/')));
        id = await this.writeNew(base, png);
      } catch (error) {
        throw this.writeError(error, this.fileOf(id, false));
      }
      const entry = entryFrom(id, params, png, createdAt, png.byteLength);
      try {
        await this.commit([{ op: 'put', e: entry }]);
      } catch (error) {
        // The PNG is safe on disk; the index will pick it up on the next reconcile. Report the problem anyway.
        this.log('warning', `gallery index: cannot record ${id}: ${(error as Error).message}`);
        this.apply([{ op: 'put', e: entry }]);
        this.records--; // not on disk
      }
      this.changed('added', [id]);
      if (this.options.thumbnails !== false) void this.queueThumbnail(id, png);
      return this.toItem(this.byId.get(id)!);
    });
  }

  /**
   * Writes png to a temp file (fsync'ed), then claims the first free name `base`, `base-2`… with link(), which
   * fails when the name exists, so another process saving at the same moment can never be overwritten. Where
   * links are not supported, the name is claimed by creating it empty with 'wx' and the temp renamed over it.
   * Returns the id.
   */
  private async writeNew(base: string, png: Uint8Array): Promise<string> {
    const tmp = tempNameFor(this.fileOf(base, false));
    let handle: Awaited<ReturnType<AtomicFs['open']>> | undefined = await this.fs.open(tmp, 'wx', 0o644);
    try {
      let off = 0;
      while (off < png.byteLength) {
        const { bytesWritten } = await handle.write(png, off, png.byteLength - off);
        if (bytesWritten <= 0) throw Object.assign(new Error(`short write to ${tmp}`), { code: 'EIO' });
        off += bytesWritten;
      }
      await handle.sync();
      await handle.close();
      handle = undefined;
      for (let n = 1; ; n++) {
        const id = n === 1 ? base : `${base}-${n}`;
        if (this.byId.has(id) || (await exists(this.fileOf(id, true)))) continue; // a trashed image keeps its name
        const file = this.fileOf(id, false);
        try {
          await link(tmp, file);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') continue;
          if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
          try {
            await (await this.fs.open(file, 'wx')).close();
          } catch (claim) {
            if ((claim as NodeJS.ErrnoException).code === 'EEXIST') continue;
            throw claim;
          }
          await this.fs.rename(tmp, file); // over our own empty claim
        }
        await fsyncDir(path.dirname(file), this.fs);
        return id;
      }
    } finally {
      await handle?.close().catch(() => undefined);
      await this.fs.unlink(tmp).catch(() => undefined);
    }
  }

  private writeError(error: unknown, file: string): GalleryError {
    if (error instanceof GalleryError) return error;
    const code = (error as NodeJS.ErrnoException).code;
    return new GalleryError(code === 'ENOSPC' || code === 'EDQUOT' ? 'disk-full' : 'write-failed', describeWriteError(error, file), file, { cause: error });
  }

  /* ---- thumbnails ------------------------------------------------------------------------------ */

  private queueThumbnail(id: string, png?: Uint8Array): Promise<Uint8Array | null> {
    const run = this.thumbChain.then(() => this.makeThumbnail(id, png));
    this.thumbChain = run.catch(() => undefined);
    return run;
  }

  private async makeThumbnail(id: string, png?: Uint8Array): Promise<Uint8Array | null> {
    const live = this.byId.get(id);
    if (!live) return null;
    try {
      const source = png ?? (await this.readPng(id));
      const thumb = await this.thumbnailer.make(source, this.options.thumbnailSize ?? 256);
      if (!thumb) return null;
      const out = this.thumbnailFile(id);
      await this.ownDir('.thumbnails', id.slice(0, id.indexOf('/')));
      await writeFileAtomic(out, thumb, { fs: this.fs, noDirSync: true }); // replaces whatever had the name (a link too)
      return thumb;
    } catch (error) {
      this.log('warning', `gallery: no thumbnail for ${id}: ${(error as Error).message}`);
      return null;
    }
  }

  /** The thumbnail (thumbnailer.mime), made now when missing; null when the image is gone or unreadable. */
  async thumbnail(id: string): Promise<Uint8Array | null> {
    if (!this.byId.has(id)) return null;
    try {
      const b = await readFile(await this.inside(this.thumbnailFile(id)));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch {
      return this.queueThumbnail(id);
    }
  }

  /** Waits for queued thumbnails. */
  async thumbnailsIdle(): Promise<void> {
    await this.thumbChain;
  }

  async readPng(id: string): Promise<Uint8Array> {
    if (!this.byId.has(id)) throw new GalleryError('not-found', `No image ${id} in the gallery.`);
    const file = this.fileOf(id);
    try {
      const b = await readFile(await this.inside(file));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (error) {
      throw new GalleryError('not-found', `Cannot read ${file}: ${(error as Error).message}`, file, { cause: error });
    }
  }

  /* ---- browsing -------------------------------------------------------------------------------- */

  counts(): GalleryCounts {
    if (this.countsCache?.revision === this.revision) return this.countsCache.counts;
    let all = 0;
    let starred = 0;
    let trash = 0;
    const models = new Map<string, number>();
    for (const l of this.order) {
      if (l.trashed) {
        trash++;
        continue;
      }
      all++;
      if (l.starred) starred++;
      const m = l.e.model ?? '';
      if (m) models.set(m, (models.get(m) ?? 0) + 1);
    }
    const counts: GalleryCounts = {
      all,
      starred,
      trash,
      models: [...models].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
    };
    this.countsCache = { revision: this.revision, counts };
    return counts;
  }

  /** Newest first. */
  list(query: GalleryQuery = {}): GalleryPage {
    const offset = query.offset ?? 0;
    const limit = Math.min(query.limit ?? 200, 1000);
    const terms = (query.text ?? '')
      .toLowerCase()
      .split(/\s+/)
      .filter(Boolean);
    const trash = query.trash ?? false;
    const items: GalleryItem[] = [];
    let total = 0;
    for (let i = this.order.length - 1; i >= 0; i--) {
      const l = this.order[i]!;
      if (l.trashed !== trash) continue;
      if (query.starredOnly && !l.starred) continue;
      if (query.model !== undefined && l.e.model !== query.model) continue;
      if (query.from !== undefined && l.e.createdAt < query.from) continue;
      if (query.to !== undefined && l.e.createdAt >= query.to) continue;
      let hit = true;
      const hay = terms.length ? (l.hay ??= haystack(l.e)) : '';
      for (const t of terms) {
        if (!hay.includes(t)) {
          hit = false;
          break;
        }
      }
      if (!hit) continue;
      if (total >= offset && items.length < limit) items.push(this.toItem(l));
      total++;
    }
    return { items, total, offset, counts: this.counts(), folder: this.dir, revision: this.revision };
  }

  /* ---- star, trash, restore, purge ------------------------------------------------------------- */

  star(ids: readonly string[], starred: boolean): Promise<GalleryItem[]> {
    return this.exclusive(async () => {
      const known = ids.filter((id) => this.byId.has(id));
      await this.commit(known.map((id) => ({ op: 'star', id, v: starred })));
      if (known.length) this.changed('updated', known);
      return known.map((id) => this.toItem(this.byId.get(id)!));
    });
  }

  /** Moves images to `.trash/` (restorable). */
  trash(ids: readonly string[]): Promise<string[]> {
    return this.exclusive(async () => {
      const done: string[] = [];
      try {
        for (const id of ids) {
          const l = this.byId.get(id);
          if (!l || l.trashed) continue;
          if (!(await this.moveImage(id, false, true))) continue;
          await this.commit([{ op: 'trash', id, v: true }]);
          done.push(id);
        }
      } finally {
        if (done.length) this.changed('trashed', done);
      }
      return done;
    });
  }

  restore(ids: readonly string[]): Promise<string[]> {
    return this.exclusive(async () => {
      const done: string[] = [];
      try {
        for (const id of ids) {
          const l = this.byId.get(id);
          if (!l || !l.trashed) continue;
          if (!(await this.moveImage(id, true, false))) continue;
          await this.commit([{ op: 'trash', id, v: false }]);
          done.push(id);
        }
      } finally {
        if (done.length) this.changed('restored', done);
      }
      return done;
    });
  }

  /** Moves an image's PNG between the folder and the trash; false (and nothing moved) when the file is not the gallery's own. */
  private async moveImage(id: string, fromTrash: boolean, toTrash: boolean): Promise<boolean> {
    const from = this.fileOf(id, fromTrash);
    const to = this.fileOf(id, toTrash);
    try {
      await this.inside(from);
      await this.dayDir(toTrash, id.slice(0, id.indexOf('/')));
      await this.inside(to);
      await moveFileDurable(from, to, this.fs);
    } catch (error) {
      if (error instanceof GalleryError && error.code === 'outside-folder') {
        this.log('warning', `gallery: ${error.message}`);
        return false;
      }
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (await exists(to))) return true; // already moved (a crash before journaling)
      throw this.writeError(error, to);
    }
    return true;
  }

  /** Deletes one of the gallery's files; a file that is not its own (a link, a folder leading out) is left alone. */
  private async unlinkOwn(file: string): Promise<void> {
    try {
      await unlink(await this.inside(file));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (error instanceof GalleryError) this.log('warning', `gallery: ${error.message}`);
      else throw error;
    }
  }

  /** Deletes trashed images for good (ids, or every trashed one). Only trashed images can be purged. */
  purge(ids?: readonly string[]): Promise<string[]> {
    return this.exclusive(async () => {
      const targets = (ids ?? this.order.filter((l) => l.trashed).map((l) => l.e.id)).filter((id) => this.byId.get(id)?.trashed);
      const done: string[] = [];
      try {
        for (const id of targets) {
          await this.unlinkOwn(this.fileOf(id, true));
          for (const ext of ['png', 'webp', 'jpg']) await this.unlinkOwn(this.thumbnailFile(id, ext)).catch(() => undefined);
          done.push(id);
        }
      } finally {
        if (done.length) {
          await fsyncDir(this.trashDir, this.fs).catch(() => undefined);
          await this.commit(done.map((id) => ({ op: 'del', id })));
          this.changed('purged', done);
        }
      }
      return done;
    });
  }

  /* ---- reconcile & rebuild --------------------------------------------------------------------- */

  /**
   * Every image file of ours (isGalleryId names in day folders, not links) in the folder and in .trash/;
   * deletes our temp files left by dead writers. Nothing else in the folder is looked at.
   */
  async scan(): Promise<Map<string, boolean>> {
    const found = new Map<string, boolean>(); // id → trashed
    const list = (dir: string) => readdir(dir, { withFileTypes: true }).catch(() => []);
    const walk = async (root: string, trashed: boolean): Promise<void> => {
      const real = await realpath(root).catch(() => null);
      if (real !== path.join(this.realDir, path.relative(this.dir, root))) return; // missing, or a link leading out
      for (const day of await list(root)) {
        if (!day.isDirectory() || !DAY.test(day.name)) continue; // a link to a folder is not a directory here
        const folder = path.join(root, day.name);
        for (const f of await list(folder)) {
          if (!f.isFile()) continue;
          const temp = OWN_TEMP.exec(f.name);
          if (temp) {
            if (STEM.test(temp[1]!) && !isPidAlive(Number(temp[2]))) await unlink(path.join(folder, f.name)).catch(() => undefined);
            continue;
          }
          if (!f.name.endsWith('.png') || !STEM.test(f.name.slice(0, -4))) continue;
          const id = `${day.name}/${f.name.slice(0, -4)}`;
          if (!trashed || !found.has(id)) found.set(id, trashed);
        }
      }
    };
    await walk(this.trashDir, true);
    await walk(this.dir, false); // a file in both places: the live one wins
    return found;
  }

  /**
   * Reads an image's entry from its PNG. Unless the index already has it, the PNG must be provably ours: our
   * `latent-studio` chunk, or in a day folder the gallery marked (a previous version wrote no marker, but always
   * the chunk).
   */
  private async readEntry(id: string, trashed: boolean, createdAt?: number): Promise<StoredEntry | null> {
    const file = this.fileOf(id, trashed);
    try {
      await this.inside(file);
      const head = await readPngHead(file);
      if (!head) {
        this.log('warning', `gallery: ${file} is not a complete PNG; not listed.`);
        return null;
      }
      let params: ImportedParameters;
      try {
        params = readImageParameters(head.head);
      } catch (error) {
        this.log('warning', `gallery: ${file}: ${(error as Error).message} Listed without parameters.`);
        params = { source: 'unknown', prompt: '', negativePrompt: '' };
      }
      if (!this.byId.has(id) && params.source !== 'latent-studio' && !(await exists(path.join(this.dir, DAY_MARKERS, id.slice(0, id.indexOf('/')))))) {
        this.log('info', `gallery: ${file} was not written by Latent Studio; not listed.`);
        return null;
      }
      return entryFrom(id, params, head.head, createdAt ?? createdAtFromId(id) ?? head.mtimeMs, head.size);
    } catch {
      return null;
    }
  }

  /**
   * Makes the index match the files: images the index lacks are read and added, entries whose file is gone are
   * dropped, trash state follows where each file is. Returns how many were added and removed.
   */
  async reconcile(): Promise<{ added: number; removed: number }> {
    const found = await this.scan();
    const unknown = [...found].filter(([id]) => !this.byId.has(id));
    const read: Array<{ e: StoredEntry; trashed: boolean }> = [];
    for (const [id, trashed] of unknown) {
      const e = await this.readEntry(id, trashed);
      if (e) read.push({ e, trashed });
    }
    return this.exclusive(async () => {
      const records: JournalRecord[] = [];
      let removed = 0;
      for (const l of [...this.order]) {
        const where = found.get(l.e.id);
        if (where === undefined) {
          // Not seen by the scan: check again now (it may have been added since).
          if (await exists(this.fileOf(l.e.id, l.trashed))) continue;
          if (await exists(this.fileOf(l.e.id, !l.trashed))) {
            records.push({ op: 'trash', id: l.e.id, v: !l.trashed });
            continue;
          }
          records.push({ op: 'del', id: l.e.id });
          removed++;
        } else if (where !== l.trashed && !(await exists(this.fileOf(l.e.id, l.trashed)))) {
          records.push({ op: 'trash', id: l.e.id, v: where });
        }
      }
      let added = 0;
      for (const r of read) {
        if (this.byId.has(r.e.id)) continue;
        records.push({ op: 'put', e: r.e, ...(r.trashed ? { trashed: true } : {}) });
        added++;
      }
      await this.commit(records);
      if (records.length) this.changed('rebuilt', []);
      return { added, removed };
    });
  }

  /** Forgets the index and reads every PNG again (stars are kept for images still there). */
  async rebuild(): Promise<GalleryRebuildResult> {
    const t0 = performance.now();
    const found = await this.scan();
    const entries: Array<{ e: StoredEntry; trashed: boolean }> = [];
    for (const [id, trashed] of found) {
      const e = await this.readEntry(id, trashed, this.byId.get(id)?.e.createdAt);
      if (e) entries.push({ e, trashed });
    }
    return this.exclusive(async () => {
      const before = new Set(this.byId.keys());
      const starred = new Set([...this.byId.values()].filter((l) => l.starred).map((l) => l.e.id));
      const records: JournalRecord[] = entries.map(({ e, trashed }) => ({ op: 'put', e, ...(starred.has(e.id) ? { starred: true } : {}), ...(trashed ? { trashed: true } : {}) }));
      await this.journal.rewrite(records);
      this.byId.clear();
      this.order = [];
      this.records = 0;
      this.replay(records);
      this.countsCache = null;
      const added = entries.filter(({ e }) => !before.has(e.id)).length;
      const removed = [...before].filter((id) => !this.byId.has(id)).length;
      this.changed('rebuilt', []);
      return { count: this.byId.size, added, removed, ms: Math.round(performance.now() - t0) };
    });
  }

  /** Waits for pending writes and thumbnails, then closes the journal. */
  async close(): Promise<void> {
    await this.chain;
    await this.thumbChain;
    this.closed = true;
    await this.journal.close();
  }
}

const IEND = [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

/**
 * The start of a PNG up to its first IDAT (where image tools put their text chunks), without reading the pixels:
 * a rebuild of 100,000 multi-megabyte PNGs reads kilobytes per file. Null when the file does not start like a
 * PNG or does not end with IEND (truncated).
 */
/** How much of a PNG (before its first IDAT) readPngHead reads at most. */
const MAX_HEAD_BYTES = 4 * 1024 * 1024;

export async function readPngHead(file: string): Promise<{ head: Uint8Array; size: number; mtimeMs: number } | null> {
  const fh = await open(file, 'r');
  try {
    const st = await fh.stat();
    const size = st.size;
    if (size < 8 + 25 + 12) return null;
    const tail = Buffer.alloc(12);
    await fh.read(tail, 0, 12, size - 12);
    if (IEND.some((b, i) => tail[i] !== b)) return null;
    let want = Math.min(size, 64 * 1024);
    for (;;) {
      const buf = Buffer.alloc(want);
      const { bytesRead } = await fh.read(buf, 0, want, 0);
      const head = new Uint8Array(buf.buffer, buf.byteOffset, bytesRead);
      if (!pngSize(head)) return null;
      // Walk the chunk headers: stop at the first IDAT, or read more when a chunk runs past the buffer.
      let pos = 8;
      let idat = false;
      while (pos + 8 <= head.length) {
        const len = ((head[pos]! << 24) | (head[pos + 1]! << 16) | (head[pos + 2]! << 8) | head[pos + 3]!) >>> 0;
        if (head[pos + 4] === 0x49 && head[pos + 5] === 0x44 && head[pos + 6] === 0x41 && head[pos + 7] === 0x54) {
          idat = true;
          break;
        }
        if (pos + 12 + len > size) return null; // a chunk longer than the file
        pos += 12 + len;
      }
      // Past MAX_HEAD_BYTES the rest of the metadata is not read (text-limits.ts caps it well below).
      if (idat || want >= size || want >= MAX_HEAD_BYTES) return { head: head.subarray(0, Math.min(head.length, pos)), size, mtimeMs: st.mtimeMs };
      want = Math.min(size, MAX_HEAD_BYTES, Math.max(want * 2, pos + 64 * 1024));
    }
  } finally {
    await fh.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
