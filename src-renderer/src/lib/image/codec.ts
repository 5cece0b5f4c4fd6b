// Pixels ⇄ image files in the browser (createImageBitmap, OffscreenCanvas).
import type { MaskRaster } from '../raster/mask-raster.js';
import type { RgbaRaster } from '../raster/rgba-raster.js';

export async function decodeImage(data: Blob | Uint8Array): Promise<RgbaRaster> {
  const blob = data instanceof Blob ? data : new Blob([data as Uint8Array<ArrayBuffer>], { type: 'image/png' });
  const bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(bitmap, 0, 0);
    const img = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    return { width: img.width, height: img.height, data: img.data };
  } finally {
    bitmap.close();
  }
}

async function canvasPng(width: number, height: number, rgba: Uint8ClampedArray): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(width, height);
  canvas.getContext('2d')!.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return new Uint8Array(await blob.arrayBuffer());
}

/** The init image as PNG, flattened onto opaque pixels (the engine ignores alpha). */
export function encodeRasterPng(r: RgbaRaster): Promise<Uint8Array> {
  return canvasPng(r.width, r.height, r.data);
}

/** The mask as an opaque grey PNG: white = repaint, black = keep. */
export function encodeMaskPng(mask: MaskRaster): Promise<Uint8Array> {
  const rgba = new Uint8ClampedArray(mask.width * mask.height * 4);
  const m = mask.data;
  for (let i = 0, j = 0; i < m.length; i++, j += 4) {
    const v = m[i]!;
    rgba[j] = v;
    rgba[j + 1] = v;
    rgba[j + 2] = v;
    rgba[j + 3] = 255;
  }
  return canvasPng(mask.width, mask.height, rgba);
}
