// The gallery panel's state: the query (search, model, dates, starred, trash), the loaded pages of results
// (newest first; pages load as the grid scrolls), thumbnails as blob URLs (a bounded cache), and the actions
// (star, delete with undo, empty the trash, reveal, use parameters / seed, send to canvas, read a dropped PNG).
import type { GalleryCounts, GalleryItem, GalleryQuery, ImportedParameters, StudioApi } from '@shared/contract.js';
import { isSamplerName } from '@shared/generation-limits.js';
import type { GenerationSettings } from './generation-settings.svelte.js';

export const GALLERY_DRAG_TYPE = 'application/x-latent-studio-gallery';
export const PAGE_SIZE = 200;
const THUMB_CACHE = 800;

/** What "use these parameters" needs from the studio (kept small so it is easy to test). */
export interface ParameterTarget {
  settings: GenerationSettings;
  models: ReadonlyArray<{ id: string; name: string }>;
  /** Text-to-image canvas size (Studio.resizeCanvas: a no-op while there is an image). */
  resizeCanvas?(width: number, height: number): void;
}

/** Writes parameters into the generation panel; returns the fields that were set. */
export function applyParameters(target: ParameterTarget, p: ImportedParameters, only?: 'seed'): string[] {
  const s = target.settings;
  const set: string[] = [];
  if (p.seed !== undefined && /^\d+$/.test(p.seed)) {
    s.seed = p.seed;
    s.seedMode = 'fixed';
    set.push('seed');
  }
  if (only === 'seed') return set;
  s.prompt = p.prompt;
  s.negativePrompt = p.negativePrompt;
  set.push('prompt', 'negativePrompt');
  if (p.steps !== undefined && p.steps >= 1) {
    s.steps = Math.round(p.steps);
    set.push('steps');
  }
  if (p.cfgScale !== undefined) {
    s.cfgScale = p.cfgScale;
    set.push('cfgScale');
  }
  if (isSamplerName(p.sampler)) {
    s.sampler = p.sampler;
    set.push('sampler');
  }
  if (p.strength !== undefined && p.strength > 0 && p.strength <= 1) {
    s.strength = p.strength;
    set.push('strength');
  }
  if (p.width && p.height && target.resizeCanvas) {
    target.resizeCanvas(p.width, p.height);
    set.push('size');
  }
  if (p.model) {
    const name = p.model.toLowerCase();
    const m = target.models.find((x) => x.name.toLowerCase() === name || x.id.toLowerCase().endsWith(`:${name}`));
    if (m) {
      s.model = m.id;
      set.push('model');
    }
  }
  return set;
}

function dayStart(date: string): number | undefined {
  if (!/^\d{4}-\d\d-\d\d$/.test(date)) return undefined;
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d).getTime();
}

export class GalleryState {
  visible = $state(false);
  text = $state('');
  model = $state('');
  /** 'YYYY-MM-DD' or ''. */
  fromDate = $state('');
  toDate = $state('');
  starredOnly = $state(false);
  trash = $state(false);

  /** Loaded results, newest first (a prefix of `total`). */
  items = $state.raw<GalleryItem[]>([]);
  total = $state(0);
  counts = $state.raw<GalleryCounts>({ all: 0, starred: 0, trash: 0, models: [] });
  folder = $state('');
  loading = $state(false);
  error = $state<string | null>(null);
  /** A line for the status bar ("Deleted 1 image · Undo", "Saved at …"). */
  message = $state<string | null>(null);
  selected = $state<string | null>(null);
  /** Ids moved to the trash by the last delete (undo restores them). */
  lastTrashed = $state.raw<string[]>([]);
  /** Bumped when thumbnails arrive (the grid re-reads thumbnailUrl). */
  thumbsVersion = $state(0);
  /** Last search's round trip (ms), for the status line and tests. */
  lastQueryMs = $state(0);

  private generation = 0;
  private readonly thumbs = new Map<string, string>();
  private readonly wanted = new Set<string>();
  private readonly inFlight = new Set<string>();
  private thumbTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private loadingMore = false;
  private readonly off: Array<() => void>;

  constructor(private readonly api: StudioApi) {
    const later = () => {
      if (!this.visible) return;
      if (this.refreshTimer) clearTimeout(this.refreshTimer);
      this.refreshTimer = setTimeout(() => void this.refresh(true), 150);
    };
    // settingsChanged: the output folder may have moved (the host opens the new one on the next call).
    this.off = [api.on('galleryChanged', later), api.on('settingsChanged', later)];
  }

  /** A new output folder (absolute path), or null for the per-user default. */
  async setFolder(folder: string | null): Promise<boolean> {
    const r = await this.api.invoke('setSettings', { outputDir: folder && folder.trim() ? folder.trim() : null });
    if (!r.ok) {
      this.error = r.error.message;
      return false;
    }
    this.error = null;
    this.items = [];
    await this.refresh();
    this.message = `Saving to ${this.folder}`;
    return true;
  }

  query(offset = 0, limit = PAGE_SIZE): GalleryQuery {
    const q: GalleryQuery = { offset, limit };
    if (this.text.trim()) q.text = this.text.trim();
    if (this.model) q.model = this.model;
    const from = dayStart(this.fromDate);
    const to = dayStart(this.toDate);
    if (from !== undefined) q.from = from;
    if (to !== undefined) q.to = to + 86_400_000;
    if (this.starredOnly) q.starredOnly = true;
    if (this.trash) q.trash = true;
    return q;
  }

  setVisible(v: boolean): void {
    this.visible = v;
    if (v) void this.refresh();
  }

  /** Loads the first page again (keepCount: reload as many as were loaded, so the grid does not jump). */
  async refresh(keepCount = false): Promise<void> {
    const gen = ++this.generation;
    const limit = keepCount ? Math.min(1000, Math.max(PAGE_SIZE, this.items.length)) : PAGE_SIZE;
    this.loading = true;
    const t0 = performance.now();
    const r = await this.api.invoke('galleryList', this.query(0, limit));
    if (gen !== this.generation) return;
    this.loading = false;
    this.lastQueryMs = Math.round(performance.now() - t0);
    if (!r.ok) {
      this.error = r.error.message;
      return;
    }
    this.error = null;
    this.items = r.value.items;
    this.total = r.value.total;
    this.counts = r.value.counts;
    this.folder = r.value.folder;
    if (this.selected && !this.items.some((i) => i.id === this.selected)) this.selected = null;
  }

  /** The grid shows rows up to `index`: load the next page when it gets close to the end of what is loaded. */
  async ensureLoaded(index: number): Promise<void> {
    if (this.loadingMore || index < this.items.length - 20 || this.items.length >= this.total) return;
    this.loadingMore = true;
    const gen = this.generation;
    try {
      const r = await this.api.invoke('galleryList', this.query(this.items.length, PAGE_SIZE));
      if (gen !== this.generation || !r.ok) return;
      const seen = new Set(this.items.map((i) => i.id));
      this.items = [...this.items, ...r.value.items.filter((i) => !seen.has(i.id))];
      this.total = r.value.total;
    } finally {
      this.loadingMore = false;
    }
  }

  // ---- thumbnails -----------------------------------------------------------------------------

  /** The thumbnail's blob URL, or null (then it is requested; thumbsVersion bumps when it arrives). */
  thumbnailUrl(id: string): string | null {
    const url = this.thumbs.get(id);
    if (url) {
      // LRU: most recently used last
      this.thumbs.delete(id);
      this.thumbs.set(id, url);
      return url;
    }
    if (!this.inFlight.has(id)) {
      this.wanted.add(id);
      this.thumbTimer ??= setTimeout(() => void this.fetchThumbs(), 16);
    }
    return null;
  }

  private async fetchThumbs(): Promise<void> {
    this.thumbTimer = null;
    const ids = [...this.wanted].slice(0, 120);
    for (const id of ids) {
      this.wanted.delete(id);
      this.inFlight.add(id);
    }
    if (this.wanted.size) this.thumbTimer = setTimeout(() => void this.fetchThumbs(), 16);
    if (!ids.length) return;
    const r = await this.api.invoke('galleryThumbnails', { ids });
    for (const id of ids) this.inFlight.delete(id);
    if (!r.ok) return;
    for (const t of r.value) {
      if (!t.data) continue;
      this.thumbs.set(t.id, URL.createObjectURL(new Blob([t.data as Uint8Array<ArrayBuffer>], { type: t.mime })));
    }
    while (this.thumbs.size > THUMB_CACHE) {
      const [oldest, url] = this.thumbs.entries().next().value as [string, string];
      URL.revokeObjectURL(url);
      this.thumbs.delete(oldest);
    }
    this.thumbsVersion++;
  }

  // ---- actions --------------------------------------------------------------------------------

  async toggleStar(item: GalleryItem): Promise<void> {
    const r = await this.api.invoke('galleryStar', { ids: [item.id], starred: !item.starred });
    if (!r.ok) this.error = r.error.message;
    else {
      const next = r.value[0];
      if (next) this.items = this.items.map((i) => (i.id === next.id ? next : i));
    }
  }

  async remove(ids: string[]): Promise<void> {
    if (!ids.length) return;
    const r = await this.api.invoke('galleryTrash', { ids });
    if (!r.ok) {
      this.error = r.error.message;
      return;
    }
    this.lastTrashed = r.value.trashed;
    this.items = this.items.filter((i) => !r.value.trashed.includes(i.id));
    this.total = Math.max(0, this.total - r.value.trashed.length);
    this.message = `Moved ${r.value.trashed.length} image${r.value.trashed.length === 1 ? '' : 's'} to the trash`;
  }

  async undoRemove(): Promise<void> {
    const ids = this.lastTrashed;
    if (!ids.length) return;
    const r = await this.api.invoke('galleryRestore', { ids });
    if (!r.ok) {
      this.error = r.error.message;
      return;
    }
    this.lastTrashed = [];
    this.message = `Restored ${r.value.restored.length} image${r.value.restored.length === 1 ? '' : 's'}`;
    await this.refresh(true);
  }

  async restore(ids: string[]): Promise<void> {
    const r = await this.api.invoke('galleryRestore', { ids });
    if (!r.ok) this.error = r.error.message;
    await this.refresh(true);
  }

  async emptyTrash(): Promise<void> {
    const r = await this.api.invoke('galleryPurge', { all: true });
    if (!r.ok) this.error = r.error.message;
    else this.message = `Deleted ${r.value.purged.length} image${r.value.purged.length === 1 ? '' : 's'} for good`;
    this.lastTrashed = [];
    await this.refresh();
  }

  /** Electron shows the file; the browser host gives its path (shown in the status line). */
  async reveal(item: GalleryItem): Promise<string | null> {
    const r = await this.api.invoke('galleryReveal', { id: item.id });
    if (!r.ok) {
      this.error = r.error.message;
      return null;
    }
    if (!r.value.shown) this.message = r.value.path;
    return r.value.path;
  }

  /** The PNG and its parameters. */
  async image(id: string): Promise<{ png: Uint8Array; parameters: ImportedParameters } | null> {
    const r = await this.api.invoke('galleryImage', { id });
    if (!r.ok) {
      this.error = r.error.message;
      return null;
    }
    return { png: r.value.png, parameters: r.value.parameters };
  }

  async useParameters(target: ParameterTarget, id: string, only?: 'seed'): Promise<boolean> {
    const img = await this.image(id);
    if (!img) return false;
    const wasRandom = target.settings.seedMode === 'random';
    const set = applyParameters(target, img.parameters, only);
    const seedNote = set.includes('seed') && wasRandom ? ` · seed fixed to ${target.settings.seed} (set Seed back to random to vary it)` : '';
    this.message = (only === 'seed' ? `Seed ${img.parameters.seed ?? '?'}` : 'Parameters copied to the panel') + seedNote;
    return true;
  }

  /** A PNG dropped on the gallery: read AUTOMATIC1111 / ComfyUI / InvokeAI / Latent Studio parameters into the panel. */
  async readDropped(target: ParameterTarget, png: Uint8Array): Promise<ImportedParameters | null> {
    const r = await this.api.invoke('readImageParameters', { png });
    if (!r.ok) {
      this.error = r.error.message;
      return null;
    }
    applyParameters(target, r.value);
    const names = { 'latent-studio': 'Latent Studio', a1111: 'AUTOMATIC1111', comfyui: 'ComfyUI', invokeai: 'InvokeAI', unknown: 'an unknown tool' } as const;
    this.message = r.value.source === 'unknown' && !r.value.prompt ? 'No generation parameters in that image' : `Parameters read from ${names[r.value.source]}`;
    return r.value;
  }

  dispose(): void {
    for (const off of this.off) off();
    if (this.thumbTimer) clearTimeout(this.thumbTimer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const url of this.thumbs.values()) URL.revokeObjectURL(url);
    this.thumbs.clear();
  }
}
