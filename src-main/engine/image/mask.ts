// Inpainting masks: from an image, blurred (A1111 style), bounding boxes for "inpaint only masked".
import type { DecodedImage, GrayImage } from './raster.js';

/**
 * A mask from a decoded image: white = repaint, black = keep.
 * If the image has an alpha channel that is not fully opaque, the alpha is the mask
 * (opaque = repaint, the way a brush stroke on a transparent layer reads); otherwise the
 * luminance (ITU-R 601-2, as PIL's convert('L')) is.
 */
export function maskFromImage(img: DecodedImage): GrayImage {
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  let useAlpha = false;
  if (img.hasAlpha) {
    for (let i = 0; i < n; i++) {
      if (img.data[i * 4 + 3] !== 255) {
        useAlpha = true;
        break;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    if (useAlpha) {
      out[i] = img.data[i * 4 + 3]!;
    } else {
      const r = img.data[i * 4]!;
      const g = img.data[i * 4 + 1]!;
      const b = img.data[i * 4 + 2]!;
      // PIL: L = R * 299/1000 + G * 587/1000 + B * 114/1000, rounded.
      out[i] = Math.floor((r * 299 + g * 587 + b * 114 + 500) / 1000);
    }
  }
  return { width: img.width, height: img.height, data: out };
}

/** Gaussian kernel weights as OpenCV's getGaussianKernel(size, sigma). */
function gaussianKernel(size: number, sigma: number): Float64Array {
  const k = new Float64Array(size);
  const half = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = i - half;
    k[i] = Math.exp(-(x * x) / (2 * sigma * sigma));
    sum += k[i]!;
  }
  for (let i = 0; i < size; i++) k[i]! /= sum;
  return k;
}

/** OpenCV's BORDER_REFLECT_101: …cba|abc…  → index reflection without repeating the edge. */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * n - 2 - i;
  }
  return i;
}

function blur1d(src: Uint8Array, w: number, h: number, sigma: number, horizontal: boolean): Uint8Array {
  const size = 2 * Math.floor(2.5 * sigma + 0.5) + 1;
  const kernel = gaussianKernel(size, sigma);
  const half = (size - 1) / 2;
  const out = new Uint8Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = 0; k < size; k++) {
        const o = k - half;
        const v = horizontal ? src[y * w + reflect101(x + o, w)]! : src[reflect101(y + o, h) * w + x]!;
        acc += v * kernel[k]!;
      }
      out[y * w + x] = Math.min(255, Math.max(0, Math.round(acc)));
    }
  }
  return out;
}

/**
 * Feathers a mask the way AUTOMATIC1111 does for "Mask blur": a horizontal then a vertical
 * Gaussian pass with sigma = blur and kernel size 2·int(2.5·blur + 0.5) + 1 (cv2.GaussianBlur,
 * reflect-101 borders). blur ≤ 0 returns the mask unchanged.
 */
export function blurMask(mask: GrayImage, blur: number): GrayImage {
  if (!(blur > 0)) return mask;
  const h1 = blur1d(mask.data, mask.width, mask.height, blur, true);
  return { width: mask.width, height: mask.height, data: blur1d(h1, mask.width, mask.height, blur, false) };
}

export type CropRegion = [x1: number, y1: number, x2: number, y2: number];

/** Bounding box [x1, y1, x2, y2) of the non-zero mask pixels, grown by `pad` and clipped to the image; null if empty. */
export function maskBoundingBox(mask: GrayImage, pad = 0): CropRegion | null {
  let x1 = mask.width;
  let y1 = mask.height;
  let x2 = -1;
  let y2 = -1;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (mask.data[y * mask.width + x] !== 0) {
        if (x < x1) x1 = x;
        if (x > x2) x2 = x;
        if (y < y1) y1 = y;
        if (y > y2) y2 = y;
      }
    }
  }
  if (x2 < 0) return null;
  return [Math.max(x1 - pad, 0), Math.max(y1 - pad, 0), Math.min(x2 + 1 + pad, mask.width), Math.min(y2 + 1 + pad, mask.height)];
}

/**
 * Grows a crop region so its aspect ratio matches the processing size (width/height), keeping
 * it inside the image (A1111 masking.expand_crop_region).
 */
export function expandCropRegion(region: CropRegion, width: number, height: number, imageWidth: number, imageHeight: number): CropRegion {
  let [x1, y1, x2, y2] = region;
  const ratioCrop = (x2 - x1) / (y2 - y1);
  const ratioProc = width / height;
  if (ratioCrop > ratioProc) {
    const desired = (x2 - x1) / ratioProc;
    const diff = Math.trunc(desired - (y2 - y1));
    y1 -= Math.floor(diff / 2);
    y2 += diff - Math.floor(diff / 2);
    if (y2 >= imageHeight) {
      const d = y2 - imageHeight;
      y2 -= d;
      y1 -= d;
    }
    if (y1 < 0) {
      y2 -= y1;
      y1 = 0;
    }
    if (y2 >= imageHeight) y2 = imageHeight;
  } else {
    const desired = (y2 - y1) * ratioProc;
    const diff = Math.trunc(desired - (x2 - x1));
    x1 -= Math.floor(diff / 2);
    x2 += diff - Math.floor(diff / 2);
    if (x2 >= imageWidth) {
      const d = x2 - imageWidth;
      x2 -= d;
      x1 -= d;
    }
    if (x1 < 0) {
      x2 -= x1;
      x1 = 0;
    }
    if (x2 >= imageWidth) x2 = imageWidth;
  }
  return [x1, y1, x2, y2];
}

/** Multiplies a mask by `factor` and clips to 255 (A1111 doubles the blurred mask for the full-image overlay). */
export function scaleMask(mask: GrayImage, factor: number): GrayImage {
  const out = new Uint8Array(mask.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.round(mask.data[i]! * factor));
  return { width: mask.width, height: mask.height, data: out };
}

/**
 * out = base·(255 − m)/255 + top·m/255 per RGB channel, rounded; alpha 255.
 * Where m is 0 the base pixel comes through exactly; where m is 255 the top pixel does.
 */
export function compositeWithMask(base: Uint8Array, top: Uint8Array, mask: GrayImage): Uint8Array {
  const n = mask.width * mask.height;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const m = mask.data[i]!;
    for (let c = 0; c < 3; c++) {
      const j = i * 4 + c;
      out[j] = m === 0 ? base[j]! : m === 255 ? top[j]! : Math.round((base[j]! * (255 - m) + top[j]! * m) / 255);
    }
    out[i * 4 + 3] = 255;
  }
  return out;
}
