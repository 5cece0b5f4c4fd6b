// Mask bytes → the translucent overlay's RGBA (one colour, alpha = mask).
import type { MaskRaster } from '../raster/mask-raster.js';
import type { Rect } from '../raster/rect.js';

export const MASK_COLOR: readonly [number, number, number] = [255, 56, 112];

/** Writes `rect` of the mask into `ctx` (a canvas the size of the document). */
export function paintMaskRect(ctx: CanvasRenderingContext2D, mask: MaskRaster, rect: Rect): void {
  const img = ctx.createImageData(rect.width, rect.height);
  const out = new Uint32Array(img.data.buffer);
  const [r, g, b] = MASK_COLOR;
  // Little-endian RGBA as one word: alpha in the top byte.
  const rgb = (b << 16) | (g << 8) | r;
  const src = mask.data;
  for (let y = 0; y < rect.height; y++) {
    const s = (rect.y + y) * mask.width + rect.x;
    const d = y * rect.width;
    for (let x = 0; x < rect.width; x++) {
      const a = src[s + x]!;
      out[d + x] = a === 0 ? 0 : ((a << 24) | rgb) >>> 0;
    }
  }
  ctx.putImageData(img, rect.x, rect.y);
}
