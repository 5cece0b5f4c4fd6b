// The canvas document: the truth the Konva stage only draws. Size, init image, mask, and the
// history of changes to them. Images are replaced, never mutated; the mask is painted in place by
// strokes and reports dirty rectangles (see MaskRaster).
import { generationLimits } from '@shared/generation-limits.js';
import { MaskRaster } from '../raster/mask-raster.js';
import { grownMask, outpaintGeometry, stretchEdges, type Margins } from '../raster/outpaint.js';
import { createRaster, fitToGrid, floorTo8, type RgbaRaster } from '../raster/rgba-raster.js';
import type { MaskPatch } from '../raster/stroke-painter.js';
import { History, type Change } from './history.svelte.js';
import { generationModeFor } from './mode.js';

interface Snapshot {
  width: number;
  height: number;
  image: RgbaRaster | null;
  /** A private copy of the mask; absent when the change leaves the mask alone. */
  mask?: Uint8Array;
}

export class StudioDocument {
  width = $state(512);
  height = $state(512);
  image = $state.raw<RgbaRaster | null>(null);
  mask = $state.raw<MaskRaster>(new MaskRaster(512, 512));
  /** Updated when a mask edit settles (stroke end, clear, undo, …), not per dab. */
  maskEmpty = $state(true);
  /** Bumped on every settled change to image, size or mask: what live mode watches. */
  revision = $state(0);
  readonly mode = $derived(generationModeFor(this.image !== null, this.maskEmpty));
  readonly history: History;

  constructor(historyBudgetBytes?: number) {
    this.history = new History(historyBudgetBytes);
  }

  // ---- size & image ------------------------------------------------------------------------

  /** Resize an empty (text-to-image) canvas; sizes snap down to multiples of 8. With an image, use outpaint. */
  resize(width: number, height: number): boolean {
    if (this.image) return false;
    const w = Math.min(generationLimits.size.max, floorTo8(width));
    const h = Math.min(generationLimits.size.max, floorTo8(height));
    if (w === this.width && h === this.height) return false;
    this.applyChange('Resize canvas', { width: w, height: h, image: null, mask: new Uint8Array(w * h) });
    return true;
  }

  /** A dropped, pasted or opened picture becomes the init image; the canvas takes its size (cropped to multiples of 8). */
  setImage(raster: RgbaRaster, label = 'Set image'): void {
    const image = fitToGrid(raster);
    const sameSize = image.width === this.width && image.height === this.height;
    this.applyChange(label, {
      width: image.width,
      height: image.height,
      image,
      mask: sameSize ? undefined : new Uint8Array(image.width * image.height),
    });
  }

  removeImage(): void {
    if (this.image) this.applyChange('Remove image', { width: this.width, height: this.height, image: null });
  }

  /**
   * A result flattened into the init image for the next round. The mask is cleared with it (one undo step
   * brings both back): it did its work, and left in place it would tint the result and turn the next run
   * into inpainting.
   */
  acceptResult(raster: RgbaRaster): void {
    if (raster.width !== this.width || raster.height !== this.height) {
      this.setImage(raster, 'Accept result');
      return;
    }
    const mask = this.maskEmpty ? undefined : new Uint8Array(this.width * this.height);
    this.applyChange('Accept result', { width: this.width, height: this.height, image: raster, mask });
  }

  /** A mask painted with no image to inpaint: it does nothing until there is one, so the studio says so. */
  get maskWithoutImage(): boolean {
    return !this.maskEmpty && this.image === null;
  }

  /** Replace the whole document (a file opened, a new one started): one undoable step. */
  load(label: string, width: number, height: number, image: RgbaRaster | null, mask: Uint8Array): void {
    this.applyChange(label, { width, height, image, mask });
  }

  /** Grow the canvas; the new area is edge-stretched image and mask to fill. */
  outpaint(margins: Margins, overlap = 8): void {
    const g = outpaintGeometry(this.width, this.height, margins);
    if (g.width === this.width && g.height === this.height) return;
    const base = this.image ?? createRaster(this.width, this.height, [127, 127, 127, 255]);
    const image = stretchEdges(base, g);
    const mask = grownMask(this.mask, g, margins, overlap);
    this.applyChange('Outpaint', { width: g.width, height: g.height, image, mask: mask.data });
  }

  // ---- mask ----------------------------------------------------------------------------------

  /** Record a finished stroke (already painted into the mask). */
  commitStroke(patch: MaskPatch, label = 'Stroke'): void {
    const mask = () => this.mask;
    const settle = () => this.settleMask();
    this.history.push({
      label,
      bytes: patch.before.byteLength + patch.after.byteLength,
      undo: () => {
        mask().writeRect(patch.rect, patch.before);
        settle();
      },
      redo: () => {
        mask().writeRect(patch.rect, patch.after);
        settle();
      },
    });
    this.settleMask();
  }

  clearMask(): void {
    const rect = this.mask.bounds();
    if (!rect) return;
    const before = this.mask.readRect(rect);
    const after = new Uint8Array(before.length);
    this.mask.writeRect(rect, after);
    this.commitStroke({ rect, before, after }, 'Clear mask');
  }

  invertMask(): void {
    const invert = () => {
      this.mask.invert();
      this.settleMask();
    };
    invert();
    this.history.push({ label: 'Invert mask', bytes: 0, undo: invert, redo: invert });
  }

  undo(): boolean {
    return this.history.undo();
  }

  redo(): boolean {
    return this.history.redo();
  }

  private settleMask(): void {
    this.maskEmpty = this.mask.isEmpty();
    this.revision++;
  }

  // ---- snapshots -----------------------------------------------------------------------------

  private snapshot(withMask: boolean): Snapshot {
    return { width: this.width, height: this.height, image: this.image, mask: withMask ? this.mask.data.slice() : undefined };
  }

  private restore(s: Snapshot): void {
    this.width = s.width;
    this.height = s.height;
    this.image = s.image;
    if (s.mask) {
      // A copy: later strokes paint in place and must not reach into history.
      this.mask = new MaskRaster(s.width, s.height, s.mask.slice());
    }
    this.settleMask();
  }

  private applyChange(label: string, after: Snapshot): void {
    const before = this.snapshot(after.mask !== undefined);
    this.restore(after);
    const change: Change = {
      label,
      bytes: snapshotBytes(before) + snapshotBytes(after, before),
      undo: () => this.restore(before),
      redo: () => this.restore(after),
    };
    this.history.push(change);
  }
}

/** Bytes of a snapshot's buffers, not counting an image shared with `other`. */
function snapshotBytes(s: Snapshot, other?: Snapshot): number {
  const image = s.image && s.image !== other?.image ? s.image.data.byteLength : 0;
  return image + (s.mask?.byteLength ?? 0);
}
