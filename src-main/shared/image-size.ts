// How large an image a request may ask for, decided before any memory is spent on it.
//
// The UNet's self-attention at the highest resolution holds a (tokens × tokens) matrix per head, with
// tokens = (width/8)·(height/8): it grows with the square of the pixel count. At 512² the demo model already
// peaks at 1.4 GB; 2048² is 256 times that attention and 8192² would be 65,536 times. A fixed pixel budget
// refuses the hopeless sizes at once with a size that fits; the finer, per-machine check belongs to the
// engine (a memory estimate against what the process can have).
// Pure arithmetic: the request schema, the CLI and the renderer share them.
import { generationLimits } from './generation-limits.js';

/** The most pixels per image: 2048×2048 (4 megapixels), any aspect ratio. */
export const MAX_IMAGE_PIXELS = generationLimits.size.maxPixels;

/** The largest multiple-of-8 size with about the aspect ratio of width×height that fits MAX_IMAGE_PIXELS. */
export function largestSizeWithin(width: number, height: number, maxPixels = MAX_IMAGE_PIXELS): { width: number; height: number } {
  const scale = Math.sqrt(maxPixels / (width * height));
  const fit = (side: number): number => Math.max(8, Math.floor((side * scale) / 8) * 8);
  let w = fit(width);
  let h = fit(height);
  // Rounding each side to 8 can still overshoot for extreme ratios: shrink the longer side until it fits.
  while (w * h > maxPixels) {
    if (w >= h) w -= 8;
    else h -= 8;
  }
  return { width: w, height: h };
}

/** Why width×height is too large, naming a size that fits; undefined when it is within the budget. */
export function imageSizeProblem(width: number, height: number, maxPixels = MAX_IMAGE_PIXELS): string | undefined {
  if (width * height <= maxPixels) return undefined;
  const fits = largestSizeWithin(width, height, maxPixels);
  const megapixels = (n: number): string => (n / 1_000_000).toFixed(1);
  return (
    `${width}x${height} is ${megapixels(width * height)} megapixels, more than the ${megapixels(maxPixels)} this studio generates at once ` +
    `(memory grows with the square of the pixel count); try ${fits.width}x${fits.height}`
  );
}
