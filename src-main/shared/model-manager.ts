// The model manager part of the studio contract (types + zod payload schemas): the user's models folder
// (import, remove) and Hugging Face hub downloads with progress events. Pure TS + zod, importable by the
// renderer. contract.ts merges these into StudioRequests / StudioEvents / requestSchemas.
import { z } from 'zod';
import type { StudioError } from './errors.js';
import type { ModelEntry } from './models.js';

export type DownloadPhase = 'listing' | 'downloading' | 'verifying' | 'registering';

/** A download the host is running (or just finished) — also the payload of `downloadProgress`. */
export interface DownloadStatus {
  downloadId: string;
  repo: string;
  revision: string;
  subfolder?: string;
  /** Model folder name it will get. */
  name: string;
  phase: DownloadPhase;
  /** File being fetched (path in the model folder), '' while listing. */
  file: string;
  /** 1-based; 0 while listing. */
  fileIndex: number;
  fileCount: number;
  /** Bytes present for the whole model (resumed bytes included) and the total. */
  bytes: number;
  totalBytes: number;
  bytesPerSecond: number;
  /** Time left at the current speed; absent until known. */
  etaMs?: number;
  /** ms since epoch. */
  startedAt: number;
}

/** An unfinished download in the models folder: a re-run of the same repo/revision resumes it. */
export interface PartialDownloadInfo {
  id: string;
  repo?: string;
  revision?: string;
  bytes: number;
}

export interface ModelManagerInfo {
  /** Where downloads and imports go (settings.userModelsDir, or the per-user default). */
  modelsDir: string;
  downloads: DownloadStatus[];
  partialDownloads: PartialDownloadInfo[];
}

export interface DownloadModelPayload {
  /** Hub repository id, e.g. 'onnxruntime/sd-turbo'. */
  repo: string;
  /** Default 'main'. */
  revision?: string;
  /** Repository folder holding model_index.json. */
  subfolder?: string;
  /** Model folder name (default: the repository name). */
  name?: string;
  /** Hub token for gated/private repositories (default: the host's HF_TOKEN). Never stored. */
  token?: string;
}

export interface ModelManagerRequests {
  /** The models folder, downloads running now and unfinished ones. */
  modelManagerInfo: { payload: undefined; response: ModelManagerInfo };
  /**
   * Starts a download; resolves at once with its id (follow downloadProgress / downloadDone / downloadError).
   * Fails at once for a bad payload or when the same repository is already downloading.
   */
  downloadModel: { payload: DownloadModelPayload; response: { downloadId: string; name: string; modelsDir: string } };
  /** Stops a download (its files stay: downloading the same repository again resumes). */
  cancelDownload: { payload: { downloadId: string }; response: { cancelled: boolean } };
  /** Copies (or links) a model folder into the models folder after checking the engine can use it. */
  importModel: { payload: { path: string; name?: string; link?: boolean }; response: ModelEntry };
  /** Removes a model of the models folder: `model` is a 'user:<name>' id or the name. Bundled models cannot be removed. */
  removeModel: { payload: { model: string }; response: { removed: string } };
}

export interface ModelManagerEvents {
  downloadProgress: DownloadStatus;
  downloadDone: { downloadId: string; repo: string; model: ModelEntry; elapsedMs: number; downloadedBytes: number };
  /** error.code 'cancelled' when cancelled; 'checksum', 'network', 'no-space', 'repo-not-found', 'not-onnx', … otherwise. */
  downloadError: { downloadId: string; repo: string; error: StudioError };
  /** A model was added or removed (refresh listModels). */
  modelsChanged: { reason: 'download' | 'import' | 'remove' };
}

const empty = z.union([z.undefined(), z.null(), z.strictObject({})]).transform(() => undefined);
const repoId = z
  .string({ error: 'repo must be a repository id like "owner/name"' })
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/, { error: 'repo must be a repository id like "owner/name"' })
  .max(200);
const modelName = z
  .string({ error: 'name must be a folder name' })
  .trim()
  .min(1, { error: 'name must not be empty' })
  .max(200)
  .regex(/^[^./\\][^/\\\0:*?"<>|]*$/, { error: 'name must be one folder name (no slashes, not starting with a dot)' });

export const modelManagerRequestSchemas = {
  modelManagerInfo: empty,
  downloadModel: z.strictObject({
    repo: repoId,
    revision: z.string().trim().min(1).max(200).optional(),
    subfolder: z
      .string()
      .trim()
      .max(500)
      .refine((s) => !s.split('/').some((p) => p === '..'), { error: 'subfolder must not contain ..' })
      .optional(),
    name: modelName.optional(),
    token: z.string().max(1000).optional(),
  }),
  cancelDownload: z.strictObject({ downloadId: z.string().min(1) }),
  importModel: z.strictObject({
    path: z.string({ error: 'path must be a folder path' }).min(1, { error: 'path must not be empty' }),
    name: modelName.optional(),
    link: z.boolean().optional(),
  }),
  removeModel: z.strictObject({ model: z.string().min(1, { error: 'model must not be empty' }) }),
};
