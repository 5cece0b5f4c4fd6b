// Autosave of the canvas document. One folder:
//
//   current.json     the latest save: { format, savedAt, document, blobs: { id: { bytes, crc } } }
//   previous.json    the save before it (kept so a damaged latest save never loses both)
//   blobs/<id>.png   the images (init image, mask, staged results), content named by the renderer, written once
//
// A save writes the new blobs (temp + fsync + rename), then renames current.json → previous.json and writes the
// new current.json (temp + fsync + rename + folder fsync). A kill at any point leaves current.json or
// previous.json whole, with all their blobs: load() checks the JSON and every blob (size + CRC-32) and falls back
// to previous.json. Blobs no longer used by either file are deleted after a save.
import { readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { BLOB_ID, autosaveDocumentSchema, type AutosaveDocument, type AutosaveLoaded, type AutosaveSavePayload, type AutosaveSaved } from '../shared/gallery.js';
import { crc32 } from '../durable/crc32.js';
import { describeWriteError, fsyncDir, isTempName, realFs, writeFileAtomic, type AtomicFs } from '../durable/atomic-file.js';

export class AutosaveError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: string[],
    readonly file?: string,
  ) {
    super(message);
    this.name = 'AutosaveError';
  }
}

interface SavedFile {
  format: 'latent-studio-autosave';
  version: 1;
  savedAt: number;
  document: AutosaveDocument;
  blobs: Record<string, { bytes: number; crc: number }>;
}

export interface DocumentStoreOptions {
  fs?: AtomicFs;
  log?: (level: 'info' | 'warning' | 'error', message: string) => void;
}

export function blobsOf(doc: AutosaveDocument): string[] {
  const ids = new Set<string>();
  if (doc.image) ids.add(doc.image);
  if (doc.mask) ids.add(doc.mask);
  for (const r of doc.results) ids.add(r.blob);
  return [...ids];
}

export class DocumentStore {
  readonly currentFile: string;
  readonly previousFile: string;
  readonly blobDir: string;
  private readonly fs: AtomicFs;
  /** Blob id → {bytes, crc} known to be on disk (filled lazily). */
  private known: Map<string, { bytes: number; crc: number }> | null = null;
  /** Blob sets of current.json and previous.json (kept by GC). */
  private currentBlobs: string[] = [];
  private previousBlobs: string[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly options: DocumentStoreOptions = {},
  ) {
    this.fs = options.fs ?? realFs;
    this.currentFile = path.join(dir, 'current.json');
    this.previousFile = path.join(dir, 'previous.json');
    this.blobDir = path.join(dir, 'blobs');
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private blobFile(id: string): string {
    return path.join(this.blobDir, `${id}.png`);
  }

  private async readSaved(file: string): Promise<SavedFile | null> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return null;
    }
    try {
      const raw = JSON.parse(text) as SavedFile;
      if (raw?.format !== 'latent-studio-autosave' || raw.version !== 1 || typeof raw.savedAt !== 'number' || !raw.blobs || typeof raw.blobs !== 'object') return null;
      // The same schema as save(): what could not be saved is not loaded either (e.g. settings nested too deep).
      const doc = autosaveDocumentSchema.safeParse(raw.document);
      if (!doc.success) {
        this.options.log?.('warning', `autosave: ${file} holds an invalid document (${doc.error.issues[0]?.message ?? 'bad shape'}); trying the previous save.`);
        return null;
      }
      return { ...raw, document: doc.data as AutosaveDocument };
    } catch {
      this.options.log?.('warning', `autosave: ${file} is damaged; trying the previous save.`);
      return null;
    }
  }

  /** Every blob of a saved file, checked (size + CRC); null when one is missing or damaged. */
  private async readBlobs(saved: SavedFile): Promise<Record<string, Uint8Array> | null> {
    const out: Record<string, Uint8Array> = {};
    for (const id of blobsOf(saved.document)) {
      const want = saved.blobs[id];
      if (!want || !BLOB_ID.test(id)) return null;
      try {
        const b = await readFile(this.blobFile(id));
        const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
        if (bytes.byteLength !== want.bytes || crc32(bytes) !== want.crc) return null;
        out[id] = bytes;
      } catch {
        return null;
      }
    }
    return out;
  }

  /** The latest whole save (or the one before it), with its images; null when there is none. */
  load(): Promise<AutosaveLoaded | null> {
    return this.exclusive(async () => {
      const current = await this.readSaved(this.currentFile);
      const previous = await this.readSaved(this.previousFile);
      this.currentBlobs = current ? blobsOf(current.document) : [];
      this.previousBlobs = previous ? blobsOf(previous.document) : [];
      for (const [saved, fromBackup] of [
        [current, false],
        [previous, true],
      ] as const) {
        if (!saved) continue;
        const blobs = await this.readBlobs(saved);
        if (blobs) return { document: saved.document, blobs, savedAt: saved.savedAt, fromBackup };
        this.options.log?.('warning', `autosave: ${fromBackup ? 'the previous' : 'the latest'} save has a missing or damaged image.`);
      }
      return null;
    });
  }

  private async knownBlobs(): Promise<Map<string, { bytes: number; crc: number }>> {
    if (this.known) return this.known;
    const known = new Map<string, { bytes: number; crc: number }>();
    // What the saved files vouch for (with their checks); other files in blobs/ are unknown and get rewritten.
    for (const file of [this.previousFile, this.currentFile]) {
      const saved = await this.readSaved(file);
      if (!saved) continue;
      for (const [id, meta] of Object.entries(saved.blobs)) known.set(id, meta);
    }
    for (const [id, meta] of [...known]) {
      const b = await readFile(this.blobFile(id)).catch(() => null);
      if (!b || b.byteLength !== meta.bytes || crc32(b) !== meta.crc) known.delete(id);
    }
    this.known = known;
    return known;
  }

  /**
   * Saves the document. Blobs not in `payload.blobs` must already be stored (else AutosaveError
   * 'missing-blobs' with their ids in details). Errors: 'disk-full', 'write-failed' (the last good save stays).
   */
  save(payload: AutosaveSavePayload): Promise<AutosaveSaved> {
    return this.exclusive(async () => {
      const parsed = autosaveDocumentSchema.safeParse(payload.document);
      if (!parsed.success) throw new AutosaveError('invalid-payload', `Invalid autosave document: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
      const doc = parsed.data as AutosaveDocument;
      const known = await this.knownBlobs();
      const needed = blobsOf(doc);
      const missing = needed.filter((id) => !known.has(id) && !payload.blobs[id]);
      if (missing.length) throw new AutosaveError('missing-blobs', `The autosave lacks ${missing.length} image(s); send them again.`, missing);
      let file = this.blobDir;
      try {
        await this.fs.mkdir(this.blobDir, { recursive: true });
        let wrote = false;
        for (const id of needed) {
          const bytes = payload.blobs[id];
          if (!bytes) continue;
          const meta = { bytes: bytes.byteLength, crc: crc32(bytes) };
          const have = known.get(id);
          if (have && have.bytes === meta.bytes && have.crc === meta.crc) continue;
          file = this.blobFile(id);
          await writeFileAtomic(file, bytes, { fs: this.fs, noDirSync: true });
          known.set(id, meta);
          wrote = true;
        }
        if (wrote) await fsyncDir(this.blobDir, this.fs);
        const saved: SavedFile = {
          format: 'latent-studio-autosave',
          version: 1,
          savedAt: Date.now(),
          document: doc,
          blobs: Object.fromEntries(needed.map((id) => [id, known.get(id)!])),
        };
        file = this.currentFile;
        const text = JSON.stringify(saved);
        // Keep the last good save: current → previous (atomic), then the new current (atomic).
        const hadCurrent = await this.readSaved(this.currentFile).then((s) => s !== null);
        if (hadCurrent) {
          await this.fs.rename(this.currentFile, this.previousFile);
          this.previousBlobs = this.currentBlobs;
        }
        await writeFileAtomic(this.currentFile, text, { fs: this.fs });
        this.currentBlobs = needed;
        await this.collect();
        return { savedAt: saved.savedAt, stored: needed };
      } catch (error) {
        if (error instanceof AutosaveError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        throw new AutosaveError(code === 'ENOSPC' || code === 'EDQUOT' ? 'disk-full' : 'write-failed', describeWriteError(error, file), undefined, file);
      }
    });
  }

  /** Deletes blobs neither save uses and temp files left by a crash. */
  private async collect(): Promise<void> {
    const keep = new Set([...this.currentBlobs, ...this.previousBlobs]);
    let names: string[] = [];
    try {
      names = await readdir(this.blobDir);
    } catch {
      return;
    }
    for (const name of names) {
      const id = name.endsWith('.png') ? name.slice(0, -4) : null;
      if ((id && !keep.has(id)) || isTempName(name)) {
        await unlink(path.join(this.blobDir, name)).catch(() => undefined);
        if (id) this.known?.delete(id);
      }
    }
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (isTempName(name)) await unlink(path.join(this.dir, name)).catch(() => undefined);
    }
  }

  /** Forgets the saved document (both versions and the images). */
  clear(): Promise<{ cleared: boolean }> {
    return this.exclusive(async () => {
      let cleared = false;
      for (const f of [this.currentFile, this.previousFile]) {
        await unlink(f).then(
          () => (cleared = true),
          () => undefined,
        );
      }
      this.currentBlobs = [];
      this.previousBlobs = [];
      await this.collect();
      await fsyncDir(this.dir, this.fs).catch(() => undefined);
      return { cleared };
    });
  }
}
