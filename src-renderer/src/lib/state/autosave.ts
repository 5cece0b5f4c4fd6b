// Autosave of the canvas document: after each change settles (1 s debounce) the document (init image, mask,
// staged results, prompt and settings) goes to the host through `autosaveSave`; at start `restore()` asks for
// the last one. Images travel as PNG blobs named by the renderer: an image is encoded and sent once (rasters
// are replaced, never mutated, so identity names them); the mask (painted in place) is named by a hash of its
// pixels. The host keeps the previous save too, so a crash mid-save never loses both.
import type { AutosaveDocument, GalleryItem, StudioApi } from '@shared/contract.js';
import { MaskRaster } from '../raster/mask-raster.js';
import type { RgbaRaster } from '../raster/rgba-raster.js';
import type { Studio } from './studio.svelte.js';
import type { StagedResult } from './results.svelte.js';

export interface AutosaveCodec {
  encodeRaster(r: RgbaRaster): Promise<Uint8Array>;
  encodeMask(m: MaskRaster): Promise<Uint8Array>;
  decode(png: Uint8Array): Promise<RgbaRaster>;
}

const SETTING_KEYS = ['prompt', 'negativePrompt', 'model', 'sampler', 'steps', 'cfgScale', 'seedMode', 'seed', 'strength', 'maskBlur', 'inpaintOnlyMasked', 'inpaintPadding', 'batchCount'] as const;

/** FNV-1a over the mask bytes (with the size): names the mask blob by its pixels. */
export function maskKey(m: MaskRaster): string {
  let h = 0x811c9dc5;
  const d = m.data;
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i]!, 0x01000193);
  return `mask-${m.width}x${m.height}-${(h >>> 0).toString(16)}`;
}

let counter = 0;
function freshId(prefix: string): string {
  counter++;
  const rnd = Math.floor(Math.random() * 2 ** 32).toString(36);
  return `${prefix}-${Date.now().toString(36)}-${rnd}-${counter}`;
}

export class Autosave {
  /** When the last save finished (ms), or null. */
  lastSavedAt: number | null = null;
  lastError: string | null = null;
  saves = 0;
  private readonly ids = new WeakMap<object, string>();
  /** Blob ids the host has. */
  private stored = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private restoring = false;
  /** Saving starts only after restore() ran: a blank canvas at start must not overwrite the saved document. */
  private started = false;
  private disposed = false;

  constructor(
    private readonly api: StudioApi,
    private readonly studio: Studio,
    private readonly codec: AutosaveCodec,
    readonly delayMs = 1000,
    private readonly onSaved?: (at: number) => void,
  ) {}

  /** Something changed: save once things settle. */
  changed(): void {
    if (this.restoring || !this.started || this.disposed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.delayMs);
  }

  /** Saves now (waits for a save in progress, then saves the latest state). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.saveOnce();
        } while (this.again && !this.disposed);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private idFor(obj: object, prefix: string): string {
    let id = this.ids.get(obj);
    if (!id) this.ids.set(obj, (id = freshId(prefix)));
    return id;
  }

  private async snapshot(all: boolean): Promise<{ document: AutosaveDocument; blobs: Record<string, Uint8Array> }> {
    const { doc, results, settings } = this.studio;
    const blobs: Record<string, Uint8Array> = {};
    const need = (id: string) => all || !this.stored.has(id);
    let image: string | null = null;
    if (doc.image) {
      image = this.idFor(doc.image, 'img');
      if (need(image)) blobs[image] = await this.codec.encodeRaster(doc.image);
    }
    let mask: string | null = null;
    if (!doc.maskEmpty) {
      mask = maskKey(doc.mask);
      if (need(mask)) blobs[mask] = await this.codec.encodeMask(doc.mask);
    }
    const staged: AutosaveDocument['results'] = [];
    for (const r of results.items) {
      const blob = this.idFor(r, 'res');
      if (need(blob)) blobs[blob] = r.png;
      staged.push({ blob, seed: r.seed, infotext: r.infotext });
    }
    const s: Record<string, unknown> = {};
    for (const k of SETTING_KEYS) s[k] = settings[k];
    return {
      document: { version: 1, width: doc.width, height: doc.height, image, mask, results: staged, resultIndex: results.index, settings: s },
      blobs,
    };
  }

  private async saveOnce(): Promise<void> {
    let payload = await this.snapshot(false);
    let r = await this.api.invoke('autosaveSave', payload);
    if (!r.ok && r.error.code === 'missing-blobs') {
      // The host lost some (a new autosave folder, a cleared store): send everything once.
      this.stored.clear();
      payload = await this.snapshot(true);
      r = await this.api.invoke('autosaveSave', payload);
    }
    if (!r.ok) {
      this.lastError = r.error.message;
      return;
    }
    this.lastError = null;
    this.stored = new Set(r.value.stored);
    this.lastSavedAt = r.value.savedAt;
    this.saves++;
    this.onSaved?.(r.value.savedAt);
  }

  /** Loads the last saved document into the studio. Resolves true when there was one. */
  async restore(): Promise<boolean> {
    try {
      return await this.load();
    } finally {
      this.started = true;
    }
  }

  private async load(): Promise<boolean> {
    const r = await this.api.invoke('autosaveLoad');
    if (!r.ok || !r.value) return false;
    const { document: d, blobs } = r.value;
    const { doc, settings, results, models } = this.studio;
    this.restoring = true;
    try {
      const s = settings as unknown as Record<string, unknown>;
      for (const k of SETTING_KEYS) {
        const v = d.settings[k];
        if (v === undefined || typeof v !== typeof s[k]) continue;
        if (k === 'model' && !models.some((m) => m.id === v)) continue;
        s[k] = v;
      }
      if (d.image && blobs[d.image]) {
        doc.setImage(await this.codec.decode(blobs[d.image]!), 'Restore');
        if (doc.image) this.ids.set(doc.image, d.image);
      } else {
        doc.resize(d.width, d.height);
      }
      if (d.mask && blobs[d.mask]) {
        const grey = await this.codec.decode(blobs[d.mask]!);
        if (grey.width === doc.width && grey.height === doc.height) {
          const data = new Uint8Array(grey.width * grey.height);
          for (let i = 0, j = 0; i < data.length; i++, j += 4) data[i] = grey.data[j]!;
          const rect = { x: 0, y: 0, width: grey.width, height: grey.height };
          const before = doc.mask.readRect(rect);
          doc.mask.writeRect(rect, data);
          doc.commitStroke({ rect, before, after: data }, 'Restore mask');
        }
      }
      const staged: StagedResult[] = [];
      for (const item of d.results) {
        const png = blobs[item.blob];
        if (!png) continue;
        const s: StagedResult = { raster: await this.codec.decode(png), seed: item.seed, infotext: item.infotext, png };
        this.ids.set(s, item.blob);
        staged.push(s);
      }
      if (staged.length) {
        results.show(staged, 'generate');
        results.index = Math.min(d.resultIndex, staged.length - 1);
      }
      doc.history.clear();
      this.stored = new Set(Object.keys(blobs));
      this.lastSavedAt = r.value.savedAt;
      return true;
    } finally {
      this.restoring = false;
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** "Send to canvas": a gallery image becomes the init image. */
export async function sendToCanvas(studio: Studio, png: Uint8Array, decode: (png: Uint8Array) => Promise<RgbaRaster>, item?: GalleryItem): Promise<void> {
  const raster = await decode(png);
  studio.doc.setImage(raster, item ? 'From gallery' : 'Open image');
  studio.results.take();
  studio.fit();
}
