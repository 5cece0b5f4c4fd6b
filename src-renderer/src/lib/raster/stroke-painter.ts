// Paints one brush/eraser stroke into a MaskRaster: round dabs spaced along the pointer path.
// Within a stroke coverage takes the maximum (no build-up past the opacity where the path crosses
// itself, as in Photoshop); the result is before + (target − before)·coverage.
import type { MaskRaster } from './mask-raster.js';
import { clipRect, emptyRect, isEmptyRect, unionRect, type Rect } from './rect.js';

export interface BrushShape {
  /** Diameter in document pixels. */
  size: number;
  /** 0 = soft edge all the way to the centre, 1 = hard (anti-aliased) edge. */
  hardness: number;
  /** 0..1: the most a stroke changes the mask. */
  opacity: number;
  /** 'paint' adds to the mask (towards 255), 'erase' removes (towards 0). */
  mode: 'paint' | 'erase';
}

export interface Point {
  x: number;
  y: number;
}

/** What a finished stroke changed: the rectangle, and its pixels before and after. */
export interface MaskPatch {
  rect: Rect;
  before: Uint8Array;
  after: Uint8Array;
}

/** Coverage 0..1 of a pixel at distance d from a dab centre of radius r. */
export function dabCoverage(d: number, r: number, hardness: number): number {
  if (d >= r + 0.5) return 0;
  const hard = r * Math.min(1, Math.max(0, hardness));
  if (hardness >= 0.999 || r - hard < 1) return Math.min(1, Math.max(0, r - d + 0.5));
  if (d <= hard) return 1;
  const t = Math.max(0, (r - d) / (r - hard));
  return t * t * (3 - 2 * t);
}

export class StrokePainter {
  /** Mask values when the stroke began (whole mask; copied once per stroke). */
  private before: Uint8Array;
  /** Per-pixel coverage of the current stroke, 0..255. */
  private coverage: Uint8Array;
  private last: Point | null = null;
  /** Path length not yet covered by a dab. */
  private carry = 0;
  private touched: Rect = emptyRect();
  private pending: Rect = emptyRect();
  private active = false;
  private shape: BrushShape = { size: 32, hardness: 0.8, opacity: 1, mode: 'paint' };

  constructor(private mask: MaskRaster) {
    this.before = new Uint8Array(mask.data.length);
    this.coverage = new Uint8Array(mask.data.length);
  }

  get drawing(): boolean {
    return this.active;
  }

  /** Use another mask (after a resize); the scratch buffers follow its size. */
  retarget(mask: MaskRaster): void {
    if (this.active) this.cancel();
    this.mask = mask;
    if (this.before.length !== mask.data.length) {
      this.before = new Uint8Array(mask.data.length);
      this.coverage = new Uint8Array(mask.data.length);
    }
  }

  begin(p: Point, shape: BrushShape): void {
    if (this.active) this.cancel();
    this.shape = { ...shape, size: Math.max(1, shape.size) };
    this.before.set(this.mask.data);
    this.touched = emptyRect();
    this.pending = emptyRect();
    this.active = true;
    this.last = p;
    this.carry = 0;
    this.dab(p);
    this.flush();
  }

  /** Extend the stroke to p, dabbing every ~10% of the diameter. */
  lineTo(p: Point): void {
    if (!this.active || !this.last) return;
    const spacing = Math.max(0.75, this.shape.size * 0.1);
    const dx = p.x - this.last.x;
    const dy = p.y - this.last.y;
    const len = Math.hypot(dx, dy);
    let t = spacing - this.carry;
    while (t <= len) {
      this.dab({ x: this.last.x + (dx * t) / len, y: this.last.y + (dy * t) / len });
      t += spacing;
    }
    this.carry = len - (t - spacing);
    this.last = p;
    this.flush();
  }

  /** Finish; returns the change for history (null when nothing changed). */
  end(): MaskPatch | null {
    if (!this.active) return null;
    this.active = false;
    const rect = this.touched;
    this.clearCoverage(rect);
    if (isEmptyRect(rect)) return null;
    const before = new Uint8Array(rect.width * rect.height);
    const w = this.mask.width;
    for (let y = 0; y < rect.height; y++) {
      const s = (rect.y + y) * w + rect.x;
      before.set(this.before.subarray(s, s + rect.width), y * rect.width);
    }
    const after = this.mask.readRect(rect);
    if (before.every((v, i) => v === after[i])) return null;
    return { rect, before, after };
  }

  /** Abandon the stroke, restoring the mask. */
  cancel(): void {
    if (!this.active) return;
    this.active = false;
    const r = this.touched;
    const w = this.mask.width;
    for (let y = 0; y < r.height; y++) {
      const s = (r.y + y) * w + r.x;
      this.mask.data.set(this.before.subarray(s, s + r.width), s);
    }
    this.clearCoverage(r);
    this.mask.changed(r);
  }

  private clearCoverage(r: Rect): void {
    const w = this.mask.width;
    for (let y = 0; y < r.height; y++) this.coverage.fill(0, (r.y + y) * w + r.x, (r.y + y) * w + r.x + r.width);
  }

  private flush(): void {
    if (isEmptyRect(this.pending)) return;
    const r = this.pending;
    this.pending = emptyRect();
    this.mask.changed(r);
  }

  private dab(c: Point): void {
    const { width: w, height: h, data } = this.mask;
    const r = this.shape.size / 2;
    const rect = clipRect({ x: c.x - r - 1, y: c.y - r - 1, width: 2 * r + 2, height: 2 * r + 2 }, w, h);
    if (isEmptyRect(rect)) return;
    const target = this.shape.mode === 'paint' ? 255 : 0;
    const strength = Math.min(1, Math.max(0, this.shape.opacity)) * 255;
    const { before, coverage } = this;
    const hardness = this.shape.hardness;
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      const dy = y + 0.5 - c.y;
      const row = y * w;
      for (let x = rect.x; x < rect.x + rect.width; x++) {
        const dx = x + 0.5 - c.x;
        const cov = dabCoverage(Math.sqrt(dx * dx + dy * dy), r, hardness);
        if (cov <= 0) continue;
        const a = Math.round(cov * strength);
        const i = row + x;
        if (a <= coverage[i]!) continue;
        coverage[i] = a;
        const b = before[i]!;
        data[i] = Math.round(b + ((target - b) * a) / 255);
      }
    }
    this.touched = unionRect(this.touched, rect);
    this.pending = unionRect(this.pending, rect);
  }
}
