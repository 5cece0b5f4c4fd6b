// Results waiting on the canvas: shown as a layer over the image until accepted (flattened into the
// init image) or discarded. A batch gives several; one is shown at a time.
import type { RgbaRaster } from '../raster/rgba-raster.js';
import type { JobPurpose } from './generation.svelte.js';

export interface StagedResult {
  raster: RgbaRaster;
  seed: string;
  infotext: string;
  png: Uint8Array;
}

export class Results {
  items = $state.raw<StagedResult[]>([]);
  index = $state(0);
  source = $state<JobPurpose>('generate');
  readonly current = $derived<StagedResult | null>(this.items[this.index] ?? null);
  readonly count = $derived(this.items.length);

  show(items: StagedResult[], source: JobPurpose): void {
    this.items = items;
    this.index = 0;
    this.source = source;
  }

  next(): void {
    if (this.items.length) this.index = (this.index + 1) % this.items.length;
  }

  previous(): void {
    if (this.items.length) this.index = (this.index - 1 + this.items.length) % this.items.length;
  }

  /** Take the shown result off the stage (accept and discard both end here). */
  take(): StagedResult | null {
    const r = this.current;
    this.items = [];
    this.index = 0;
    return r;
  }
}
