// The pixel budget: sizes no machine can run are refused before any memory is spent, with a size that fits.
import { describe, expect, it } from 'vitest';
import { parseGenerateRequest, PipelineError } from '../../../src-main/engine/pipeline/index.js';
import { imageSizeProblem, largestSizeWithin, MAX_IMAGE_PIXELS } from '../../../src-main/shared/image-size.js';

/** The one request check (shared/generate-request.ts) applies the budget. */
const checkImageSize = (width: number, height: number) => parseGenerateRequest({ width, height });

describe('image size budget', () => {
  it('accepts the usual sizes up to 2048x2048 (any aspect ratio within 4 megapixels)', () => {
    for (const [w, h] of [
      [512, 512],
      [1024, 768],
      [2048, 2048],
      [4096, 1024],
      [8, 8192],
    ] as const) {
      expect(imageSizeProblem(w, h)).toBeUndefined();
      expect(() => checkImageSize(w, h)).not.toThrow();
    }
  });

  it('refuses 8192x8192 with a clear message naming a size of the same shape that fits', () => {
    const message = imageSizeProblem(8192, 8192)!;
    expect(message).toMatch(/^8192x8192 is 67\.1 megapixels, more than the 4\.2 .*; try 2048x2048$/);
    expect(() => checkImageSize(8192, 8192)).toThrow(PipelineError);
    expect(() => checkImageSize(8192, 8192)).toThrow(/try 2048x2048/);
    expect(imageSizeProblem(2056, 2048)).toMatch(/try 2040x2040|try 2048x2040|try 2040x2048/);
  });

  it('the suggested size is a multiple of 8, within the budget, and keeps the aspect ratio', () => {
    for (const [w, h] of [
      [8192, 4096],
      [3000, 3000],
      [8192, 2048],
      [8192, 8],
      [7000, 5000],
    ] as const) {
      const fit = largestSizeWithin(w, h);
      expect(fit.width % 8).toBe(0);
      expect(fit.height % 8).toBe(0);
      expect(fit.width * fit.height).toBeLessThanOrEqual(MAX_IMAGE_PIXELS);
      expect(imageSizeProblem(fit.width, fit.height)).toBeUndefined();
      if (Math.min(fit.width, fit.height) > 64) expect(Math.abs(fit.width / fit.height - w / h) / (w / h)).toBeLessThan(0.02);
    }
  });
});
