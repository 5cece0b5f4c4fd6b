// Layer compositing for the files: source-over with layer opacity, straight alpha, 8 bits.
import { createRaster, type RgbaRaster } from '../raster/rgba-raster.js';

export interface PlacedRaster {
  raster: RgbaRaster;
  x: number;
  y: number;
  opacity: number;
}

/** Layers (top first) flattened onto a transparent width×height canvas. One opaque full-size layer comes back unchanged. */
export function flatten(width: number, height: number, layersTopFirst: readonly PlacedRaster[]): RgbaRaster {
  const out = createRaster(width, height);
  const d = out.data;
  for (let i = layersTopFirst.length - 1; i >= 0; i--) {
    const { raster: src, x: ox, y: oy, opacity } = layersTopFirst[i]!;
    const s = src.data;
    const x0 = Math.max(0, ox);
    const y0 = Math.max(0, oy);
    const x1 = Math.min(width, ox + src.width);
    const y1 = Math.min(height, oy + src.height);
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const si = ((y - oy) * src.width + (x - ox)) * 4;
        const di = (y * width + x) * 4;
        const sa = (s[si + 3]! / 255) * opacity;
        if (sa === 0) continue;
        const da = d[di + 3]! / 255;
        const oa = sa + da * (1 - sa);
        // Onto a transparent pixel this is the source itself: a single layer roundtrips exactly.
        for (let c = 0; c < 3; c++) d[di + c] = (s[si + c]! * sa + d[di + c]! * da * (1 - sa)) / oa;
        d[di + 3] = oa * 255;
      }
    }
  }
  return out;
}

/** A copy at most `maxSide` pixels on its longer side (area average), or the raster itself when it fits. */
export function thumbnail(src: RgbaRaster, maxSide: number): RgbaRaster {
  const scale = Math.min(1, maxSide / Math.max(src.width, src.height));
  if (scale === 1) return src;
  const w = Math.max(1, Math.round(src.width * scale));
  const h = Math.max(1, Math.round(src.height * scale));
  const out = createRaster(w, h);
  for (let y = 0; y < h; y++) {
    const sy0 = Math.floor((y * src.height) / h);
    const sy1 = Math.max(sy0 + 1, Math.floor(((y + 1) * src.height) / h));
    for (let x = 0; x < w; x++) {
      const sx0 = Math.floor((x * src.width) / w);
      const sx1 = Math.max(sx0 + 1, Math.floor(((x + 1) * src.width) / w));
      const sum = [0, 0, 0, 0];
      for (let sy = sy0; sy < sy1; sy++) {
        for (let sx = sx0; sx < sx1; sx++) {
          const i = (sy * src.width + sx) * 4;
          for (let c = 0; c < 4; c++) sum[c]! += src.data[i + c]!;
        }
      }
      const n = (sy1 - sy0) * (sx1 - sx0);
      out.data.set(sum.map((v) => v / n), (y * w + x) * 4);
    }
  }
  return out;
}
