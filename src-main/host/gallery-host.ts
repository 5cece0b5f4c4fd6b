// The gallery and autosave behind the studio contract: which output folder is open (settings.outputDir or the
// per-user default), saving every finished image, and the gallery / autosave request handlers. Host-agnostic
// (no Electron): revealing a file goes through an injected function.
import path from 'node:path';
import { AutosaveError, DocumentStore } from '../autosave/index.js';
import { Gallery, GalleryError, readImageParameters, type GalleryChange, type Thumbnailer } from '../gallery/index.js';
import { GALLERY_CHANNELS, galleryRequestSchemas, type AutosaveSavePayload, type GalleryQuery, type GalleryRequests, type GalleryThumbnail } from '../shared/gallery.js';
import { describeIssues, type Result, type StudioError, type StudioEvents } from '../shared/contract.js';
import { HostError } from './models.js';

export interface GalleryHostOptions {
  /** The output folder when settings.outputDir is null. */
  defaultOutputDir: string;
  /** The autosave folder. */
  autosaveDir: string;
  /** Current settings.outputDir. */
  outputDir: () => string | null;
  /** Thumbnail maker (default: pure-JS PNG; the browser host passes a sharp WebP one). */
  thumbnailer?: Thumbnailer;
  /** Electron: shell.showItemInFolder. Absent in the browser host (reveal then only returns the path). */
  revealFile?: (file: string) => void | boolean | Promise<void | boolean>;
  emit: <E extends 'galleryChanged' | 'notice'>(event: E, payload: StudioEvents[E]) => void;
  log: (level: 'info' | 'warning' | 'error', message: string) => void;
}

type GalleryChannel = keyof GalleryRequests;
export type GalleryHandlers = { [C in GalleryChannel]: (payload: unknown) => Promise<Result<GalleryRequests[C]['response']>> };

function toHostError(error: unknown): unknown {
  if (error instanceof GalleryError) return new HostError(error.code, error.message, error.file !== undefined ? { file: error.file } : {});
  if (error instanceof AutosaveError) {
    return new HostError(error.code, error.message, { ...(error.file !== undefined ? { file: error.file } : {}), ...(error.details ? { details: error.details } : {}) });
  }
  return error;
}

export class GalleryHost {
  private current: { dir: string; opening: Promise<Gallery> } | null = null;
  private unsubscribe: (() => void) | null = null;
  readonly documents: DocumentStore;
  private closed = false;
  /** Resolves when the open folder's reconcile pass is done (tests). */
  reconciled: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: GalleryHostOptions) {
    this.documents = new DocumentStore(options.autosaveDir, { log: options.log });
  }

  get outputDir(): string {
    return path.resolve(this.options.outputDir() ?? this.options.defaultOutputDir);
  }

  /** The gallery of the current output folder (opened, or re-opened after the folder changed). */
  async gallery(): Promise<Gallery> {
    if (this.closed) throw new HostError('engine-unavailable', 'The studio is shutting down.');
    const dir = this.outputDir;
    if (this.current?.dir === dir) return this.current.opening;
    const previous = this.current;
    const opening = (async () => {
      if (previous) {
        this.unsubscribe?.();
        this.unsubscribe = null;
        await (await previous.opening.catch(() => null))?.close();
      }
      let opened;
      try {
        opened = await Gallery.open(dir, { log: this.options.log, ...(this.options.thumbnailer ? { thumbnailer: this.options.thumbnailer } : {}) });
      } catch (error) {
        throw new HostError('gallery', `Cannot open the output folder ${dir}: ${(error as Error).message}`, { file: dir });
      }
      const { gallery, report } = opened;
      if (report.tornBytes > 0 || report.corruptLines > 0) {
        this.options.emit('notice', { level: 'warning', message: `The gallery index was damaged (a crash?); it was repaired from the images in ${dir}.`, file: gallery.journal.file });
      }
      this.unsubscribe = gallery.onChange((c: GalleryChange) => this.options.emit('galleryChanged', c));
      // The PNGs are the truth: pick up images the index lacks (a crash between write and journal, files copied in).
      this.reconciled = gallery.reconcile().catch((error: unknown) => this.options.log('warning', `gallery reconcile of ${dir} failed: ${(error as Error).message}`));
      if (previous) this.options.emit('galleryChanged', { revision: gallery.revision, reason: 'folder', ids: [] });
      return gallery;
    })();
    this.current = { dir, opening };
    opening.catch(() => {
      if (this.current?.opening === opening) this.current = null;
    });
    return opening;
  }

  /** Saves finished images into the gallery (one by one, in order). Never throws: failures are returned per image. */
  async saveResults(pngs: readonly Uint8Array[]): Promise<Array<{ saved?: { id: string; file: string }; saveError?: StudioError }>> {
    const out: Array<{ saved?: { id: string; file: string }; saveError?: StudioError }> = [];
    for (const png of pngs) {
      try {
        const g = await this.gallery();
        const item = await g.add(png);
        out.push({ saved: { id: item.id, file: item.file } });
      } catch (error) {
        const e = toHostError(error) as HostError | Error;
        const saveError: StudioError =
          e instanceof HostError ? e.toStudioError() : { code: 'write-failed', message: `Cannot save the image: ${(e as Error).message}` };
        this.options.log('error', `gallery: ${saveError.message}`);
        this.options.emit('notice', { level: 'error', message: `The image was not saved: ${saveError.message}`, ...(saveError.file ? { file: saveError.file } : {}) });
        out.push({ saveError });
      }
    }
    return out;
  }

  private validate<C extends GalleryChannel>(channel: C, payload: unknown): unknown {
    const r = galleryRequestSchemas[channel].safeParse(payload);
    if (!r.success) {
      const details = describeIssues(r.error.issues as never);
      throw new HostError('invalid-payload', `Invalid ${channel} request: ${details.join('; ')}`, { details });
    }
    return r.data;
  }

  private async run(channel: GalleryChannel, payload: unknown): Promise<unknown> {
    const p = this.validate(channel, payload) as never;
    try {
      switch (channel) {
        case 'galleryList':
          return (await this.gallery()).list((p as GalleryQuery | undefined) ?? {});
        case 'galleryThumbnails': {
          const g = await this.gallery();
          const ids = (p as { ids: string[] }).ids;
          const mime = g.thumbnailer.mime;
          return Promise.all(ids.map(async (id): Promise<GalleryThumbnail> => ({ id, data: await g.thumbnail(id), mime })));
        }
        case 'galleryImage': {
          const g = await this.gallery();
          const { id } = p as { id: string };
          const item = g.get(id);
          if (!item) throw new HostError('not-found', `No image ${id} in the gallery.`);
          const png = await g.readPng(id);
          let parameters;
          try {
            parameters = readImageParameters(png);
          } catch {
            parameters = { source: item.source, prompt: item.prompt, negativePrompt: item.negativePrompt };
          }
          return { item, png, parameters };
        }
        case 'galleryStar': {
          const { ids, starred } = p as { ids: string[]; starred: boolean };
          return (await this.gallery()).star(ids, starred);
        }
        case 'galleryTrash':
          return { trashed: await (await this.gallery()).trash((p as { ids: string[] }).ids) };
        case 'galleryRestore':
          return { restored: await (await this.gallery()).restore((p as { ids: string[] }).ids) };
        case 'galleryPurge': {
          const { ids, all } = p as { ids?: string[]; all?: boolean };
          if (!ids && !all) throw new HostError('invalid-payload', 'galleryPurge needs ids or all: true', { details: ['ids: give the trashed ids, or all: true'] });
          return { purged: await (await this.gallery()).purge(all ? undefined : ids) };
        }
        case 'galleryReveal': {
          const g = await this.gallery();
          const { id } = p as { id: string };
          const item = g.get(id);
          if (!item) throw new HostError('not-found', `No image ${id} in the gallery.`);
          let shown = false;
          if (this.options.revealFile) shown = (await this.options.revealFile(item.file)) !== false;
          return { path: item.file, shown };
        }
        case 'galleryRebuild':
          return (await this.gallery()).rebuild();
        case 'readImageParameters':
          try {
            return readImageParameters((p as { png: Uint8Array }).png);
          } catch (error) {
            throw new HostError('bad-image', `Not a PNG file: ${(error as Error).message}`);
          }
        case 'autosaveSave':
          return await this.documents.save(p as AutosaveSavePayload);
        case 'autosaveLoad':
          return await this.documents.load();
        case 'autosaveClear':
          return await this.documents.clear();
      }
    } catch (error) {
      throw toHostError(error);
    }
  }

  /** One handler per gallery channel, wrapped by the service's guard (errors → Result). */
  handlers(guard: <T>(fn: () => Promise<T>) => Promise<Result<T>>): GalleryHandlers {
    const out = {} as Record<GalleryChannel, (payload: unknown) => Promise<Result<unknown>>>;
    for (const channel of GALLERY_CHANNELS) out[channel] = (payload) => guard(() => this.run(channel, payload));
    return out as GalleryHandlers;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    const g = await this.current?.opening.catch(() => null);
    await this.reconciled;
    await g?.close();
  }
}
