// Outpainting: grow the canvas on any side. The new area is pre-filled by stretching the edge pixels
// outwards (so the seam has matching colours to denoise from) and becomes mask to fill.
import { MaskRaster } from './mask-raster.js';
import type { RgbaRaster } from './rgba-raster.js';

export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export const MAX_CANVAS_SIDE = 8192;

/** Margins rounded to multiples of 8 (≥ 0), so the grown canvas stays on the generation grid. */
export function snapMargins(m: Margins): Margins {
  const snap = (v: number) => Math.max(0, Math.round((Number.isFinite(v) ? v : 0) / 8) * 8);
  return { top: snap(m.top), right: snap(m.right), bottom: snap(m.bottom), left: snap(m.left) };
}

export interface OutpaintGeometry {
  width: number;
  height: number;
  /** Where the old canvas's top-left corner lands in the new one. */
  offsetX: number;
  offsetY: number;
}

export function outpaintGeometry(width: number, height: number, margins: Margins): OutpaintGeometry {
  const m = snapMargins(margins);
  const w = width + m.left + m.right;
  const h = height + m.top + m.bottom;
  if (w > MAX_CANVAS_SIDE || h > MAX_CANVAS_SIDE) {
    throw new RangeError(`the canvas would be ${w}×${h}; at most ${MAX_CANVAS_SIDE} pixels a side`);
  }
  return { width: w, height: h, offsetX: m.left, offsetY: m.top };
}

/** The image on the grown canvas, new pixels copied from the nearest edge pixel. */
export function stretchEdges(src: RgbaRaster, g: OutpaintGeometry): RgbaRaster {
  const out = new Uint8ClampedArray(g.width * g.height * 4);
  const s32 = new Uint32Array(src.data.buffer, src.data.byteOffset, src.width * src.height);
  const d32 = new Uint32Array(out.buffer);
  for (let y = 0; y < g.height; y++) {
    const sy = Math.min(src.height - 1, Math.max(0, y - g.offsetY));
    const srow = sy * src.width;
    const drow = y * g.width;
    for (let x = 0; x < g.width; x++) {
      const sx = Math.min(src.width - 1, Math.max(0, x - g.offsetX));
      d32[drow + x] = s32[srow + sx]!;
    }
  }
  return { width: g.width, height: g.height, data: out };
}

/**
 * The mask on the grown canvas: the old mask where the old canvas was, 255 in the new area, and
 * `overlap` pixels of the old canvas along each grown side also repainted so the seam blends.
 */
export function grownMask(old: MaskRaster, g: OutpaintGeometry, margins: Margins, overlap = 8): MaskRaster {
  const m = snapMargins(margins);
  const mask = new MaskRaster(g.width, g.height);
  mask.data.fill(255);
  const x0 = g.offsetX + (m.left > 0 ? overlap : 0);
  const x1 = g.offsetX + old.width - (m.right > 0 ? overlap : 0);
  const y0 = g.offsetY + (m.top > 0 ? overlap : 0);
  const y1 = g.offsetY + old.height - (m.bottom > 0 ? overlap : 0);
  for (let y = g.offsetY; y < g.offsetY + old.height; y++) {
    const srow = (y - g.offsetY) * old.width;
    const drow = y * g.width;
    if (y < y0 || y >= y1) continue;
    for (let x = Math.max(x0, g.offsetX); x < Math.min(x1, g.offsetX + old.width); x++) {
      mask.data[drow + x] = old.data[srow + x - g.offsetX]!;
    }
  }
  return mask;
}
