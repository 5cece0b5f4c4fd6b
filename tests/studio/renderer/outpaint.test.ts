import { describe, expect, it } from 'vitest';
import { MaskRaster } from '../../../src-renderer/src/lib/raster/mask-raster.js';
import { grownMask, outpaintGeometry, snapMargins, stretchEdges } from '../../../src-renderer/src/lib/raster/outpaint.js';
import type { RgbaRaster } from '../../../src-renderer/src/lib/raster/rgba-raster.js';

function gradient(w: number, h: number): RgbaRaster {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x, y, 7, 255], (y * w + x) * 4);
  return { width: w, height: h, data };
}
const px = (r: RgbaRaster, x: number, y: number) => [...r.data.subarray((y * r.width + x) * 4, (y * r.width + x) * 4 + 4)];

describe('outpaint geometry', () => {
  it('snaps margins to multiples of 8', () => {
    expect(snapMargins({ top: 3, right: 12, bottom: 64, left: -8 })).toEqual({ top: 0, right: 16, bottom: 64, left: 0 });
  });

  it('computes the new size and where the old canvas lands', () => {
    expect(outpaintGeometry(512, 512, { top: 64, right: 0, bottom: 0, left: 128 })).toEqual({ width: 640, height: 576, offsetX: 128, offsetY: 64 });
    expect(() => outpaintGeometry(8000, 512, { top: 0, right: 512, bottom: 0, left: 0 })).toThrow(/8192/);
  });

  it('stretches edge pixels into the new area', () => {
    const src = gradient(16, 8);
    const g = outpaintGeometry(16, 8, { top: 8, right: 8, bottom: 0, left: 8 });
    const out = stretchEdges(src, g);
    expect([out.width, out.height]).toEqual([32, 16]);
    expect(px(out, 0, 0)).toEqual([0, 0, 7, 255]); // top-left corner ← src (0,0)
    expect(px(out, 31, 3)).toEqual([15, 0, 7, 255]); // top-right ← src (15,0)
    expect(px(out, 10, 12)).toEqual([2, 4, 7, 255]); // inside: unchanged
    expect(px(out, 30, 15)).toEqual([15, 7, 7, 255]); // right strip ← right edge column
  });

  it('masks the new area plus an overlap band on grown sides only', () => {
    const old = new MaskRaster(32, 32);
    old.data[16 * 32 + 16] = 77;
    const margins = { top: 0, right: 16, bottom: 0, left: 0 };
    const g = outpaintGeometry(32, 32, margins);
    const m = grownMask(old, g, margins, 8);
    expect(m.width).toBe(48);
    expect(m.data[0]).toBe(0); // old area, far from the seam
    expect(m.data[16 * 48 + 16]).toBe(77); // old mask kept
    expect(m.data[5 * 48 + 40]).toBe(255); // new area
    expect(m.data[5 * 48 + 26]).toBe(255); // overlap band (x 24..31)
    expect(m.data[5 * 48 + 23]).toBe(0);
  });
});
