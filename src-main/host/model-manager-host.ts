// The model manager's studio handlers (host-agnostic, no Electron): modelManagerInfo, downloadModel,
// cancelDownload, importModel, removeModel, and the download events. StudioService mounts them.
import path from 'node:path';
import { HostError, listModels, type ModelRoots } from './models.js';
import {
  describeIssues,
  modelManagerRequestSchemas,
  type DownloadModelPayload,
  type DownloadStatus,
  type ModelEntry,
  type ModelManagerInfo,
  type ModelManagerRequests,
  type Result,
  type StudioEvents,
} from '../shared/contract.js';
import { listingDownloadStatus } from '../shared/download-status.js';
import { downloadModel, defaultModelName } from '../models-manager/download.js';
import { ModelManagerError } from '../models-manager/errors.js';
import { defaultUserModelsDir } from '../models-manager/paths.js';
import { importModel, listPartialDownloads, removeModel } from '../models-manager/registry.js';

type MMChannel = keyof ModelManagerRequests;
export type ModelManagerHandlers = { [C in MMChannel]: (payload: unknown) => Promise<Result<ModelManagerRequests[C]['response']>> };
type Guard = <T>(fn: () => Promise<T>) => Promise<Result<T>>;

export interface ModelManagerHostOptions {
  /** The model roots now (bundled folder + settings). */
  roots: () => ModelRoots;
  /** Sets settings.userModelsDir (persisted, settingsChanged broadcast) when it is null and a model is added. */
  setUserModelsDir: (dir: string) => Promise<void>;
  emit: <E extends keyof StudioEvents>(event: E, payload: StudioEvents[E]) => void;
  log?: (level: 'info' | 'warning' | 'error', message: string) => void;
  /** The models folder used while settings.userModelsDir is null (default: the per-user folder). */
  defaultModelsDir?: string;
  /** Hub endpoint (default env HF_ENDPOINT / huggingface.co). */
  endpoint?: string;
  /** Where proxies, HF_ENDPOINT and HF_TOKEN are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Minimum time between two downloadProgress events of a download (default 250 ms). */
  progressIntervalMs?: number;
  retryDelayMs?: number;
}

interface Running {
  status: DownloadStatus;
  controller: AbortController;
  done: Promise<void>;
}

function toHostError(error: unknown): unknown {
  if (error instanceof ModelManagerError) {
    return new HostError(error.code, error.message, {
      ...(error.file !== undefined ? { file: error.file } : {}),
      ...(error.details !== undefined ? { details: error.details } : {}),
    });
  }
  return error;
}

export class ModelManagerHost {
  private readonly downloads = new Map<string, Running>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ModelManagerHostOptions) {}

  handlers(guard: Guard): ModelManagerHandlers {
    const wrap =
      <T>(fn: (payload: unknown) => Promise<T>) =>
      (payload: unknown): Promise<Result<T>> =>
        guard(async () => {
          try {
            return await fn(payload);
          } catch (error) {
            throw toHostError(error);
          }
        });
    return {
      modelManagerInfo: wrap(async (p) => (this.validate('modelManagerInfo', p), this.info())),
      downloadModel: wrap((p) => this.start(this.validate('downloadModel', p) as DownloadModelPayload)),
      cancelDownload: wrap(async (p) => this.cancel((this.validate('cancelDownload', p) as { downloadId: string }).downloadId)),
      importModel: wrap((p) => this.import(this.validate('importModel', p) as { path: string; name?: string; link?: boolean })),
      removeModel: wrap((p) => this.remove((this.validate('removeModel', p) as { model: string }).model)),
    };
  }

  /** Cancels every download and waits for them to stop (their files stay for a later resume). */
  async close(): Promise<void> {
    this.closed = true;
    for (const d of this.downloads.values()) d.controller.abort();
    await Promise.all([...this.downloads.values()].map((d) => d.done));
  }

  private validate(channel: MMChannel, payload: unknown): unknown {
    const r = modelManagerRequestSchemas[channel].safeParse(payload);
    if (!r.success) {
      const details = describeIssues(r.error.issues as never);
      throw new HostError('invalid-payload', `Invalid ${channel} request: ${details.join('; ')}`, { details });
    }
    return r.data;
  }

  /** The models folder; `adopt`: store the default in the settings so listModels shows what lands there. */
  private async modelsDir(adopt: boolean): Promise<string> {
    const set = this.options.roots().settings.userModelsDir;
    if (set) return set;
    const dir = this.options.defaultModelsDir ?? defaultUserModelsDir(this.options.env);
    if (adopt) await this.options.setUserModelsDir(dir);
    return dir;
  }

  private async info(): Promise<ModelManagerInfo> {
    const modelsDir = await this.modelsDir(false);
    const partial = await listPartialDownloads(modelsDir);
    return {
      modelsDir,
      downloads: [...this.downloads.values()].map((d) => ({ ...d.status })),
      partialDownloads: partial.map((p) => ({ id: p.id, bytes: p.bytes, ...(p.repo ? { repo: p.repo } : {}), ...(p.revision ? { revision: p.revision } : {}) })),
    };
  }

  private async entryFor(name: string): Promise<ModelEntry> {
    const id = `user:${name}`;
    const found = (await listModels(this.options.roots())).find((m) => m.id === id);
    if (!found) throw new HostError('internal', `The model ${name} was added but is not listed.`);
    return found;
  }

  private async start(p: DownloadModelPayload): Promise<{ downloadId: string; name: string; modelsDir: string }> {
    if (this.closed) throw new HostError('engine-unavailable', 'The studio is shutting down.');
    const revision = p.revision ?? 'main';
    const subfolder = p.subfolder ? p.subfolder.replace(/^\/+|\/+$/g, '') || undefined : undefined;
    for (const d of this.downloads.values()) {
      if (d.status.repo === p.repo && d.status.revision === revision && d.status.subfolder === subfolder) {
        throw new HostError('busy', `${p.repo} is already downloading (${d.status.downloadId}).`);
      }
    }
    const name = p.name ?? defaultModelName(p.repo, subfolder);
    const modelsDir = await this.modelsDir(true);
    const downloadId = `download-${this.nextId++}`;
    const controller = new AbortController();
    const status = listingDownloadStatus({ downloadId, repo: p.repo, revision, ...(subfolder ? { subfolder } : {}), name });
    const run = async (): Promise<void> => {
      try {
        const r = await downloadModel({
          repo: p.repo,
          revision,
          ...(subfolder ? { subfolder } : {}),
          name,
          modelsDir,
          ...(p.token ? { token: p.token } : {}),
          ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
          ...(this.options.env ? { env: this.options.env } : {}),
          ...(this.options.retryDelayMs !== undefined ? { retryDelayMs: this.options.retryDelayMs } : {}),
          progressIntervalMs: this.options.progressIntervalMs ?? 250,
          signal: controller.signal,
          onProgress: (e) => {
            Object.assign(status, {
              phase: e.phase,
              file: e.file,
              fileIndex: e.fileIndex,
              fileCount: e.fileCount,
              bytes: e.bytes,
              totalBytes: e.totalBytes,
              bytesPerSecond: e.bytesPerSecond,
            });
            if (e.etaMs !== undefined) status.etaMs = e.etaMs;
            else delete status.etaMs;
            this.options.emit('downloadProgress', { ...status });
          },
          onLog: (m) => this.options.log?.('info', `${downloadId}: ${m}`),
        });
        this.downloads.delete(downloadId);
        this.options.emit('modelsChanged', { reason: 'download' });
        this.options.emit('downloadDone', { downloadId, repo: p.repo, model: await this.entryFor(r.name), elapsedMs: r.elapsedMs, downloadedBytes: r.downloadedBytes });
      } catch (error) {
        this.downloads.delete(downloadId);
        const e = toHostError(error);
        const studioError =
          e instanceof HostError ? e.toStudioError() : { code: 'internal', message: error instanceof Error ? error.message : String(error) };
        if (studioError.code !== 'cancelled') this.options.log?.('warning', `${downloadId} (${p.repo}) failed: ${studioError.code}: ${studioError.message}`);
        this.options.emit('downloadError', { downloadId, repo: p.repo, error: studioError });
      }
    };
    const entry: Running = { status, controller, done: Promise.resolve() };
    this.downloads.set(downloadId, entry);
    // Events of this download come after the reply (the caller learns the id first).
    entry.done = new Promise<void>((resolve) => setImmediate(resolve)).then(run);
    return { downloadId, name, modelsDir };
  }

  private cancel(downloadId: string): { cancelled: boolean } {
    const d = this.downloads.get(downloadId);
    if (!d) return { cancelled: false };
    d.controller.abort();
    return { cancelled: true };
  }

  private async import(p: { path: string; name?: string; link?: boolean }): Promise<ModelEntry> {
    if (!path.isAbsolute(p.path)) throw new HostError('invalid-payload', `path must be an absolute folder path, got "${p.path}"`, { details: ['path: must be an absolute path'] });
    const modelsDir = await this.modelsDir(true);
    const m = await importModel(p.path, { modelsDir, ...(p.name !== undefined ? { name: p.name } : {}), ...(p.link ? { link: true } : {}) });
    this.options.emit('modelsChanged', { reason: 'import' });
    return this.entryFor(m.name);
  }

  private async remove(model: string): Promise<{ removed: string }> {
    if (/^bundled:/.test(model) || path.isAbsolute(model)) {
      throw new HostError('invalid-payload', `Only models of the models folder ("user:<name>") can be removed, not ${model}.`);
    }
    const name = model.replace(/^user:/, '');
    const modelsDir = await this.modelsDir(false);
    for (const d of this.downloads.values()) if (d.status.name === name) throw new HostError('busy', `${name} is still downloading; cancel it first.`);
    await removeModel(name, modelsDir);
    this.options.emit('modelsChanged', { reason: 'remove' });
    return { removed: `user:${name}` };
  }
}
