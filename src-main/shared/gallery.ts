// The gallery, history and autosave part of the studio contract (types + zod payload schemas). Pure TS + zod,
// importable by the renderer. contract.ts merges these into StudioRequests / StudioEvents / requestSchemas.
import { z } from 'zod';

/** Which tool wrote a PNG's metadata. */
export type ImageSource = 'latent-studio' | 'a1111' | 'comfyui' | 'invokeai' | 'unknown';

/** One image of the gallery (the PNG is the truth; this is its index entry). */
export interface GalleryItem {
  /** Stable id: the PNG's path under the output folder, '/'-separated, without '.png' (e.g. '2026-11-26/20261126-231502-0001-42'). */
  id: string;
  /** Absolute path of the PNG now (inside `.trash/` while trashed). */
  file: string;
  /** ms since epoch. */
  createdAt: number;
  width: number;
  height: number;
  /** File size. */
  bytes: number;
  source: ImageSource;
  prompt: string;
  negativePrompt: string;
  /** Model name (A1111 "Model:" / folder name). */
  model?: string;
  /** Engine sampler name when known (e.g. 'euler-ancestral'), else the tool's own name. */
  sampler?: string;
  steps?: number;
  cfgScale?: number;
  /** Decimal string. */
  seed?: string;
  /** img2img / inpaint strength. */
  strength?: number;
  starred: boolean;
  trashed: boolean;
}

export interface GalleryQuery {
  /** Words that must all appear (case-insensitive) in the prompt, negative prompt, model, sampler or seed. */
  text?: string;
  /** Exact model name. */
  model?: string;
  /** createdAt ≥ from (ms). */
  from?: number;
  /** createdAt < to (ms). */
  to?: number;
  starredOnly?: boolean;
  /** true: the trash; false/omitted: the gallery. */
  trash?: boolean;
  /** Newest first; offset/limit page through (limit ≤ 1000, default 200). */
  offset?: number;
  limit?: number;
}

export interface GalleryCounts {
  /** Images not in the trash. */
  all: number;
  starred: number;
  trash: number;
  /** Images per model (not trashed), most used first. */
  models: Array<{ name: string; count: number }>;
}

export interface GalleryPage {
  items: GalleryItem[];
  /** Matches of the query (all pages). */
  total: number;
  offset: number;
  counts: GalleryCounts;
  /** The output folder. */
  folder: string;
  /** Bumped on every change of the index. */
  revision: number;
}

/** Generation parameters read from any PNG (ours, AUTOMATIC1111, ComfyUI, InvokeAI). */
export interface ImportedParameters {
  source: ImageSource;
  prompt: string;
  negativePrompt: string;
  seed?: string;
  steps?: number;
  cfgScale?: number;
  /** Engine sampler name when it maps to one (e.g. 'euler-ancestral'). */
  sampler?: string;
  /** The tool's own sampler name ('Euler a', 'dpmpp_2m', …). */
  samplerName?: string;
  width?: number;
  height?: number;
  model?: string;
  strength?: number;
}

export interface GalleryImage {
  item: GalleryItem;
  png: Uint8Array;
  parameters: ImportedParameters;
}

export interface GalleryThumbnail {
  id: string;
  /** Image bytes (null: the image is gone or unreadable). */
  data: Uint8Array | null;
  /** 'image/png' (Electron: made without native code) or 'image/webp' (browser host: sharp). */
  mime: string;
}

export interface GalleryRebuildResult {
  count: number;
  added: number;
  removed: number;
  ms: number;
}

/* ---- autosave ---------------------------------------------------------------------------------- */

/** The canvas document as the renderer saves it. Images are blob ids: the PNG bytes travel in `blobs`, once. */
export interface AutosaveDocument {
  version: 1;
  width: number;
  height: number;
  /** Blob id of the init image PNG, or null. */
  image: string | null;
  /** Blob id of the mask PNG (grey, white = repaint), or null (empty mask). */
  mask: string | null;
  /** Results waiting on the canvas (not accepted yet). */
  results: Array<{ blob: string; seed: string; infotext: string }>;
  resultIndex: number;
  /** Prompt, negative prompt, model, sampler, steps, cfg, seed… (JSON object; the renderer owns its shape). */
  settings: Record<string, unknown>;
}

export interface AutosaveSavePayload {
  document: AutosaveDocument;
  /** PNG bytes of blobs the host does not have yet (blob id → bytes). Unchanged layers are sent once. */
  blobs: Record<string, Uint8Array>;
}

export interface AutosaveSaved {
  savedAt: number;
  /** Every blob the saved document uses (the renderer may skip sending these next time). */
  stored: string[];
}

export interface AutosaveLoaded {
  document: AutosaveDocument;
  blobs: Record<string, Uint8Array>;
  savedAt: number;
  /** The latest save was unreadable; this is the one before it. */
  fromBackup: boolean;
}

/* ---- requests and events ----------------------------------------------------------------------- */

export interface GalleryRequests {
  /** A page of the gallery (or the trash), newest first, with counts. */
  galleryList: { payload: GalleryQuery | undefined; response: GalleryPage };
  /** 256 px thumbnails, PNG or WebP (made on demand when missing). */
  galleryThumbnails: { payload: { ids: string[] }; response: GalleryThumbnail[] };
  /** The PNG and its parameters ("use these parameters", "send to canvas"). */
  galleryImage: { payload: { id: string }; response: GalleryImage };
  galleryStar: { payload: { ids: string[]; starred: boolean }; response: GalleryItem[] };
  /** Move to the trash folder (undo with galleryRestore). */
  galleryTrash: { payload: { ids: string[] }; response: { trashed: string[] } };
  galleryRestore: { payload: { ids: string[] }; response: { restored: string[] } };
  /** Delete for good: the given trashed ids, or the whole trash with all: true. */
  galleryPurge: { payload: { ids?: string[]; all?: boolean }; response: { purged: string[] } };
  /** Electron: shows the file in the file manager (shown: true). Browser host: returns the path only. */
  galleryReveal: { payload: { id: string }; response: { path: string; shown: boolean } };
  /** Rescan the output folder and rebuild the index from the PNGs. */
  galleryRebuild: { payload: undefined; response: GalleryRebuildResult };
  /** Reads generation parameters from a PNG (ours, AUTOMATIC1111, ComfyUI, InvokeAI). */
  readImageParameters: { payload: { png: Uint8Array }; response: ImportedParameters };
  /** Saves the canvas document (the last good save is kept too). Error 'missing-blobs': resend them (details list the ids). */
  autosaveSave: { payload: AutosaveSavePayload; response: AutosaveSaved };
  /** The last saved document (null: none). */
  autosaveLoad: { payload: undefined; response: AutosaveLoaded | null };
  /** Forget the saved document (a deliberate "new document"). */
  autosaveClear: { payload: undefined; response: { cleared: boolean } };
}

export interface GalleryEvents {
  /** The gallery index changed (images added, starred, trashed, restored, purged, rebuilt, or the folder changed). */
  galleryChanged: { revision: number; reason: 'added' | 'updated' | 'trashed' | 'restored' | 'purged' | 'rebuilt' | 'folder'; ids: string[] };
}

export const GALLERY_CHANNELS = [
  'galleryList',
  'galleryThumbnails',
  'galleryImage',
  'galleryStar',
  'galleryTrash',
  'galleryRestore',
  'galleryPurge',
  'galleryReveal',
  'galleryRebuild',
  'readImageParameters',
  'autosaveSave',
  'autosaveLoad',
  'autosaveClear',
] as const satisfies ReadonlyArray<keyof GalleryRequests>;

/* ---- validation -------------------------------------------------------------------------------- */

const bytes = z.instanceof(Uint8Array, { error: 'expected PNG bytes (Uint8Array)' });
const id = z.string({ error: 'id must be a string' }).min(1).max(1024);
const ids = z.array(id, { error: 'ids must be a list of gallery ids' }).min(1, { error: 'ids must not be empty' }).max(100_000);
const empty = z.union([z.undefined(), z.null(), z.strictObject({})]).transform(() => undefined);
export const BLOB_ID = /^[A-Za-z0-9_-]{1,80}$/;
const blobId = z.string().regex(BLOB_ID, { error: 'blob ids are 1-80 letters, digits, _ or -' });

/** How deep the autosaved settings may nest, and how many values they may hold in all. */
export const MAX_SETTINGS_DEPTH = 32;
export const MAX_SETTINGS_VALUES = 100_000;

/**
 * Whether a JSON-like value nests at most `maxDepth` levels and holds at most `maxValues` values. Iterative: a
 * 3,000-deep value saved once could never be loaded again (structured clone and recursive code overflow the stack).
 * Shared references and cycles count once per path, so the value budget also stops a graph built to explode.
 */
export function withinJsonLimits(value: unknown, maxDepth = MAX_SETTINGS_DEPTH, maxValues = MAX_SETTINGS_VALUES): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  let seen = 0;
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (++seen > maxValues) return false;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= maxDepth) return false;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return true;
}

export const autosaveDocumentSchema = z.strictObject({
  version: z.literal(1),
  width: z.number().int().min(1).max(16384),
  height: z.number().int().min(1).max(16384),
  image: blobId.nullable(),
  mask: blobId.nullable(),
  results: z.array(z.strictObject({ blob: blobId, seed: z.string().max(40), infotext: z.string().max(200_000) })).max(1000),
  resultIndex: z.number().int().min(0),
  settings: z.record(z.string(), z.unknown()).refine((settings) => withinJsonLimits(settings), {
    error: `settings nest deeper than ${MAX_SETTINGS_DEPTH} levels or hold more than ${MAX_SETTINGS_VALUES} values`,
  }),
});

export const galleryRequestSchemas = {
  galleryList: z.union([
    z.undefined(),
    z.null().transform(() => undefined),
    z.strictObject({
      text: z.string().max(10_000).optional(),
      model: z.string().max(1000).optional(),
      from: z.number().finite().optional(),
      to: z.number().finite().optional(),
      starredOnly: z.boolean().optional(),
      trash: z.boolean().optional(),
      offset: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    }),
  ]),
  galleryThumbnails: z.strictObject({ ids: z.array(id).max(1000) }),
  galleryImage: z.strictObject({ id }),
  galleryStar: z.strictObject({ ids, starred: z.boolean() }),
  galleryTrash: z.strictObject({ ids }),
  galleryRestore: z.strictObject({ ids }),
  galleryPurge: z.strictObject({ ids: ids.optional(), all: z.boolean().optional() }),
  galleryReveal: z.strictObject({ id }),
  galleryRebuild: empty,
  readImageParameters: z.strictObject({ png: bytes }),
  autosaveSave: z.strictObject({
    document: autosaveDocumentSchema,
    blobs: z.record(blobId, bytes),
  }),
  autosaveLoad: empty,
  autosaveClear: empty,
} satisfies Record<keyof GalleryRequests, z.ZodType>;
