// An RGBA image in memory. Treated as immutable: edits make a new raster (the document replaces it).

export interface RgbaRaster {
  readonly width: number;
  readonly height: number;
  /** width·height·4 bytes, straight (not premultiplied) alpha. */
  readonly data: Uint8ClampedArray;
}

export function createRaster(width: number, height: number, fill: [number, number, number, number] = [0, 0, 0, 0]): RgbaRaster {
  const data = new Uint8ClampedArray(width * height * 4);
  if (fill.some((v) => v !== 0)) {
    for (let i = 0; i < data.length; i += 4) data.set(fill, i);
  }
  return { width, height, data };
}

/** Largest multiple of 8 not above v (at least 8). */
export const floorTo8 = (v: number): number => Math.max(8, Math.floor(v / 8) * 8);
/** Nearest multiple of 8 (at least 8). */
export const roundTo8 = (v: number): number => Math.max(8, Math.round(v / 8) * 8);

/** The centred width×height crop (or the raster itself when already that size). */
export function cropCentered(src: RgbaRaster, width: number, height: number): RgbaRaster {
  if (src.width === width && src.height === height) return src;
  const ox = Math.floor((src.width - width) / 2);
  const oy = Math.floor((src.height - height) / 2);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(src.height - 1, Math.max(0, y + oy));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(src.width - 1, Math.max(0, x + ox));
      const s = (sy * src.width + sx) * 4;
      const d = (y * width + x) * 4;
      out[d] = src.data[s]!;
      out[d + 1] = src.data[s + 1]!;
      out[d + 2] = src.data[s + 2]!;
      out[d + 3] = src.data[s + 3]!;
    }
  }
  return { width, height, data: out };
}

/** An opened picture fitted to the generation grid: cropped (centred) to multiples of 8, at most 7 px lost per axis. */
export function fitToGrid(src: RgbaRaster): RgbaRaster {
  return cropCentered(src, floorTo8(src.width), floorTo8(src.height));
}
