// The Model Manager panel's state: the models, running downloads (progress, speed, time left), import and
// remove (with a confirmation step). Talks to the host only through the contract.
import type { DownloadStatus, ModelEntry, ModelManagerInfo, StudioApi, StudioError } from '@shared/contract.js';
import { listingDownloadStatus } from '@shared/download-status.js';
import { describeFailure, type Failure } from './errors.js';
import { formatBytes } from '@shared/format.js';


export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "1.2 MiB / 2.0 GiB · 12 MiB/s · 2m 10s left". */
export function describeProgress(d: DownloadStatus): string {
  if (d.phase === 'listing') return 'Listing the repository…';
  const parts = [`${formatBytes(d.bytes)} / ${formatBytes(d.totalBytes)}`];
  if (d.bytesPerSecond > 0) parts.push(`${formatBytes(d.bytesPerSecond)}/s`);
  if (d.etaMs !== undefined) parts.push(`${formatDuration(d.etaMs)} left`);
  if (d.phase === 'registering') parts.push('checking the model…');
  return parts.join(' · ');
}

export interface FinishedDownload {
  downloadId: string;
  repo: string;
  ok: boolean;
  cancelled: boolean;
  message: string;
}

const TITLES: Record<string, string> = {
  'repo-not-found': 'Repository not found',
  'file-not-found': 'A file of the repository is missing',
  unauthorized: 'The hub needs a token for this repository',
  'not-onnx': 'Not an ONNX Stable Diffusion repository',
  checksum: 'A downloaded file is damaged',
  'no-space': 'Not enough disk space',
  network: 'Network problem',
  http: 'The hub answered with an error',
  unsupported: 'The engine cannot use this model',
  exists: 'A model of that name is already there',
  busy: 'Already downloading',
  invalid: 'Not valid',
  io: 'Could not write the files',
};

/** The shared failure text, with titles for the model manager's codes. */
export function describeManagerFailure(error: StudioError): Failure {
  const f = describeFailure(error);
  const title = TITLES[String(error.code)];
  return title ? { ...f, title } : f;
}

export class ModelManagerState {
  modelsDir = $state('');
  models = $state.raw<ModelEntry[]>([]);
  downloads = $state.raw<DownloadStatus[]>([]);
  partial = $state.raw<ModelManagerInfo['partialDownloads']>([]);
  /** The last few downloads that ended (done, failed, cancelled). */
  finished = $state.raw<FinishedDownload[]>([]);
  problem = $state.raw<Failure | null>(null);
  /** Model id waiting for the second click of "Remove". */
  confirmRemove = $state<string | null>(null);
  busy = $state(false);

  // Form fields.
  repo = $state('');
  revision = $state('');
  subfolder = $state('');
  token = $state('');
  importPath = $state('');
  importName = $state('');
  importLink = $state(false);

  private unsubscribe: Array<() => void> = [];

  constructor(
    private readonly api: StudioApi,
    /** The model list changed (give it to the model picker). */
    private readonly onModels: (models: ModelEntry[]) => void = () => undefined,
  ) {}

  /** Subscribes to the download events and loads the list. Returns the unsubscribe function. */
  start(): () => void {
    this.unsubscribe.push(
      this.api.on('downloadProgress', (d) => {
        const rest = this.downloads.filter((x) => x.downloadId !== d.downloadId);
        this.downloads = [...rest, d].sort((a, b) => a.startedAt - b.startedAt);
      }),
      this.api.on('downloadDone', (e) => {
        this.endDownload({ downloadId: e.downloadId, repo: e.repo, ok: true, cancelled: false, message: `${e.model.name} is ready.` });
      }),
      this.api.on('downloadError', (e) => {
        const cancelled = e.error.code === 'cancelled';
        const message = cancelled ? 'Cancelled: download it again to resume.' : `${describeManagerFailure(e.error).title}: ${e.error.message}`;
        this.endDownload({ downloadId: e.downloadId, repo: e.repo, ok: false, cancelled, message });
        void this.refresh();
      }),
      this.api.on('modelsChanged', () => void this.refresh()),
    );
    void this.refresh();
    return () => this.dispose();
  }

  dispose(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private endDownload(f: FinishedDownload): void {
    this.downloads = this.downloads.filter((d) => d.downloadId !== f.downloadId);
    this.finished = [f, ...this.finished.filter((x) => x.downloadId !== f.downloadId)].slice(0, 5);
  }

  private fail(error: StudioError): void {
    this.problem = describeManagerFailure(error);
  }

  async refresh(): Promise<void> {
    const [models, info] = await Promise.all([this.api.invoke('listModels'), this.api.invoke('modelManagerInfo')]);
    if (models.ok) {
      this.models = models.value;
      this.onModels(models.value);
    } else this.fail(models.error);
    if (info.ok) {
      this.modelsDir = info.value.modelsDir;
      this.partial = info.value.partialDownloads;
      // Downloads started before this page loaded (or by another window).
      const known = new Set(this.downloads.map((d) => d.downloadId));
      const extra = info.value.downloads.filter((d) => !known.has(d.downloadId));
      if (extra.length) this.downloads = [...this.downloads, ...extra];
    } else this.fail(info.error);
  }

  async download(): Promise<boolean> {
    const repo = this.repo.trim();
    if (!repo) {
      this.problem = { code: 'invalid-payload', title: 'No repository', message: 'Enter a repository id such as onnxruntime/sd-turbo.', details: [] };
      return false;
    }
    this.problem = null;
    const payload = {
      repo,
      ...(this.revision.trim() ? { revision: this.revision.trim() } : {}),
      ...(this.subfolder.trim() ? { subfolder: this.subfolder.trim() } : {}),
      ...(this.token.trim() ? { token: this.token.trim() } : {}),
    };
    const r = await this.api.invoke('downloadModel', payload);
    if (!r.ok) {
      this.fail(r.error);
      return false;
    }
    this.modelsDir = r.value.modelsDir;
    if (!this.downloads.some((d) => d.downloadId === r.value.downloadId)) {
      const status = listingDownloadStatus({ downloadId: r.value.downloadId, repo, revision: payload.revision ?? 'main', name: r.value.name });
      this.downloads = [...this.downloads, status];
    }
    this.repo = '';
    return true;
  }

  async cancel(downloadId: string): Promise<void> {
    const r = await this.api.invoke('cancelDownload', { downloadId });
    if (!r.ok) this.fail(r.error);
  }

  async importFolder(): Promise<boolean> {
    const p = this.importPath.trim();
    if (!p) return false;
    this.problem = null;
    this.busy = true;
    try {
      const r = await this.api.invoke('importModel', {
        path: p,
        ...(this.importName.trim() ? { name: this.importName.trim() } : {}),
        ...(this.importLink ? { link: true } : {}),
      });
      if (!r.ok) {
        this.fail(r.error);
        return false;
      }
      this.importPath = '';
      this.importName = '';
      await this.refresh();
      return true;
    } finally {
      this.busy = false;
    }
  }

  /** First call asks for confirmation; the second (same id) removes. */
  async remove(id: string): Promise<boolean> {
    if (this.confirmRemove !== id) {
      this.confirmRemove = id;
      return false;
    }
    this.confirmRemove = null;
    this.problem = null;
    const r = await this.api.invoke('removeModel', { model: id });
    if (!r.ok) {
      this.fail(r.error);
      return false;
    }
    await this.refresh();
    return true;
  }

  percent(d: DownloadStatus): number {
    return d.totalBytes > 0 ? Math.min(100, (100 * d.bytes) / d.totalBytes) : 0;
  }
}
