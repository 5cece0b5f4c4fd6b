// The settings screen's state: what only the host's JSON settings file held (execution provider, threads,
// preview rates, output folder), loaded with getSettings / listBackends and saved with setSettings.
import type { BackendInfo, Settings, StudioApi } from '@shared/contract.js';

export interface SettingsForm {
  backend: string;
  threads: number;
  previewEvery: number;
  decodePreviewEvery: number;
  /** '' = the per-user default folder. */
  outputDir: string;
}

export class AppSettingsState {
  form = $state<SettingsForm>({ backend: 'cpu', threads: 0, previewEvery: 1, decodePreviewEvery: 0, outputDir: '' });
  backends = $state.raw<BackendInfo[]>([]);
  error = $state<string | null>(null);
  message = $state<string | null>(null);
  busy = $state(false);

  constructor(private readonly api: StudioApi) {}

  async load(): Promise<void> {
    const [settings, backends] = await Promise.all([this.api.invoke('getSettings'), this.api.invoke('listBackends')]);
    if (!settings.ok) {
      this.error = settings.error.message;
      return;
    }
    this.fill(settings.value);
    this.backends = backends.ok ? backends.value.filter((b) => b.listed) : [];
    this.error = null;
    this.message = null;
  }

  /** Saves the form; the host checks it (a bad value comes back as the host's message). */
  async save(): Promise<boolean> {
    this.busy = true;
    try {
      const f = this.form;
      const r = await this.api.invoke('setSettings', {
        backend: f.backend,
        threads: Number(f.threads),
        previewEvery: Number(f.previewEvery),
        decodePreviewEvery: Number(f.decodePreviewEvery),
        outputDir: f.outputDir.trim() ? f.outputDir.trim() : null,
      });
      if (!r.ok) {
        this.error = r.error.message;
        this.message = null;
        return false;
      }
      this.fill(r.value);
      this.error = null;
      this.message = 'Saved. New jobs use these settings.';
      return true;
    } finally {
      this.busy = false;
    }
  }

  private fill(s: Settings): void {
    this.form = { backend: s.backend, threads: s.threads, previewEvery: s.previewEvery, decodePreviewEvery: s.decodePreviewEvery, outputDir: s.outputDir ?? '' };
  }
}
