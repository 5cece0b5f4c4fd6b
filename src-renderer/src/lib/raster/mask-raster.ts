// The inpainting mask: one byte per pixel, 255 = repaint, 0 = keep.
// Strokes mutate it in place (copying 4 MiB per dab would not keep 60 fps); every write reports its
// dirty rectangle so the canvas redraws only that part and history records only that part.
import { clipRect, isEmptyRect, type Rect } from './rect.js';

export type MaskListener = (dirty: Rect) => void;

export class MaskRaster {
  readonly data: Uint8Array;
  private readonly listeners = new Set<MaskListener>();

  constructor(
    readonly width: number,
    readonly height: number,
    data?: Uint8Array,
  ) {
    this.data = data ?? new Uint8Array(width * height);
    if (this.data.length !== width * height) throw new Error(`mask data is ${this.data.length} bytes, expected ${width * height}`);
  }

  onChange(listener: MaskListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tell listeners that `rect` changed (painters call this after writing into `data`). */
  changed(rect: Rect = { x: 0, y: 0, width: this.width, height: this.height }): void {
    if (isEmptyRect(rect)) return;
    for (const l of this.listeners) l(rect);
  }

  clone(): MaskRaster {
    return new MaskRaster(this.width, this.height, this.data.slice());
  }

  readRect(r: Rect): Uint8Array {
    const out = new Uint8Array(r.width * r.height);
    for (let y = 0; y < r.height; y++) {
      const s = (r.y + y) * this.width + r.x;
      out.set(this.data.subarray(s, s + r.width), y * r.width);
    }
    return out;
  }

  writeRect(r: Rect, values: Uint8Array): void {
    for (let y = 0; y < r.height; y++) {
      this.data.set(values.subarray(y * r.width, (y + 1) * r.width), (r.y + y) * this.width + r.x);
    }
    this.changed(r);
  }

  fill(value: number): void {
    this.data.fill(value);
    this.changed();
  }

  invert(): void {
    const d = this.data;
    for (let i = 0; i < d.length; i++) d[i] = 255 - d[i]!;
    this.changed();
  }

  /** The smallest rectangle holding every non-zero pixel, or null for an empty mask. */
  bounds(): Rect | null {
    const { width: w, height: h, data: d } = this;
    let x0 = w;
    let y0 = h;
    let x1 = -1;
    let y1 = -1;
    for (let y = 0; y < h; y++) {
      const row = y * w;
      let first = -1;
      for (let x = 0; x < w; x++) {
        if (d[row + x] !== 0) {
          first = x;
          break;
        }
      }
      if (first < 0) continue;
      let last = first;
      for (let x = w - 1; x > first; x--) {
        if (d[row + x] !== 0) {
          last = x;
          break;
        }
      }
      if (y < y0) y0 = y;
      y1 = y;
      if (first < x0) x0 = first;
      if (last > x1) x1 = last;
    }
    return x1 < 0 ? null : clipRect({ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 }, w, h);
  }

  isEmpty(): boolean {
    const d = this.data;
    // Word-at-a-time scan: 2048² bytes in well under a millisecond.
    if (d.byteOffset % 4 !== 0) return d.every((v) => v === 0);
    const words = new Uint32Array(d.buffer, d.byteOffset, Math.floor(d.byteLength / 4));
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
    for (let i = words.length * 4; i < d.length; i++) if (d[i] !== 0) return false;
    return true;
  }
}
