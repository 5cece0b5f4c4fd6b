import { describe, expect, it } from 'vitest';
import { StudioDocument } from '../../../src-renderer/src/lib/state/document.svelte.js';
import { generationModeFor } from '../../../src-renderer/src/lib/state/mode.js';
import { createRaster } from '../../../src-renderer/src/lib/raster/rgba-raster.js';
import { StrokePainter } from '../../../src-renderer/src/lib/raster/stroke-painter.js';

function stroke(doc: StudioDocument, x = 10, y = 10) {
  const p = new StrokePainter(doc.mask);
  p.begin({ x, y }, { size: 8, hardness: 1, opacity: 1, mode: 'paint' });
  doc.commitStroke(p.end()!);
}

describe('generation mode follows the canvas', () => {
  it('pure rule', () => {
    expect(generationModeFor(false, true)).toBe('txt2img');
    expect(generationModeFor(false, false)).toBe('txt2img');
    expect(generationModeFor(true, true)).toBe('img2img');
    expect(generationModeFor(true, false)).toBe('inpaint');
  });

  it('no image → txt2img; image → img2img; image + mask → inpaint; undo walks back', () => {
    const doc = new StudioDocument();
    expect(doc.mode).toBe('txt2img');
    doc.setImage(createRaster(64, 48, [10, 20, 30, 255]));
    expect(doc.mode).toBe('img2img');
    stroke(doc);
    expect(doc.mode).toBe('inpaint');
    doc.undo();
    expect(doc.mode).toBe('img2img');
    doc.redo();
    expect(doc.mode).toBe('inpaint');
    doc.clearMask();
    expect(doc.mode).toBe('img2img');
    doc.undo(); // clear undone
    expect(doc.mode).toBe('inpaint');
  });
});

describe('StudioDocument', () => {
  it('crops an opened image to multiples of 8 and takes its size', () => {
    const doc = new StudioDocument();
    doc.setImage(createRaster(203, 101, [1, 2, 3, 255]));
    expect([doc.width, doc.height]).toEqual([200, 96]);
    expect(doc.image!.width).toBe(200);
    expect(doc.mask.width).toBe(200);
    doc.undo();
    expect([doc.width, doc.height, doc.image]).toEqual([512, 512, null]);
  });

  it('resizes an empty canvas on the grid, not one with an image', () => {
    const doc = new StudioDocument();
    expect(doc.resize(300, 1000)).toBe(true);
    expect([doc.width, doc.height]).toEqual([296, 1000]);
    doc.setImage(createRaster(64, 64));
    expect(doc.resize(128, 128)).toBe(false);
  });

  it('records strokes as dirty-rect patches (bytes ≪ canvas)', () => {
    const doc = new StudioDocument();
    doc.resize(1024, 1024);
    const before = doc.history.bytes;
    stroke(doc, 500, 500);
    const strokeBytes = doc.history.bytes - before;
    expect(strokeBytes).toBeGreaterThan(0);
    expect(strokeBytes).toBeLessThan(2 * 16 * 16);
    expect(doc.history.labels.at(-1)).toBe('Stroke');
  });

  it('accepting a result replaces the image and clears the mask, one undo brings both back', () => {
    const doc = new StudioDocument();
    doc.setImage(createRaster(32, 32, [0, 0, 0, 255]));
    stroke(doc, 16, 16);
    const old = doc.image;
    const maskBefore = doc.mask.data.slice();
    const result = createRaster(32, 32, [200, 100, 50, 255]);
    doc.acceptResult(result);
    expect(doc.image).toBe(result);
    expect(doc.maskEmpty).toBe(true);
    expect(doc.mask.isEmpty()).toBe(true);
    expect(doc.mode).toBe('img2img');
    doc.undo();
    expect(doc.image).toBe(old);
    expect(doc.mode).toBe('inpaint');
    expect(doc.mask.data).toEqual(maskBefore);
    doc.redo();
    expect(doc.mode).toBe('img2img');
  });

  it('a mask on an empty canvas is reported, and the first accepted result clears it', () => {
    const doc = new StudioDocument();
    doc.resize(32, 32);
    expect(doc.maskWithoutImage).toBe(false);
    stroke(doc, 16, 16);
    expect(doc.maskWithoutImage).toBe(true);
    expect(doc.mode).toBe('txt2img');
    doc.acceptResult(createRaster(32, 32, [1, 2, 3, 255]));
    expect(doc.maskWithoutImage).toBe(false);
    // The next run is image to image, not inpainting with a forgotten mask.
    expect(doc.mode).toBe('img2img');
  });

  it('outpaints: grows on the chosen sides; undo restores size, image and mask', () => {
    const doc = new StudioDocument();
    doc.setImage(createRaster(64, 64, [9, 9, 9, 255]));
    stroke(doc, 30, 30);
    const maskBefore = doc.mask.data.slice();
    doc.outpaint({ top: 0, right: 64, bottom: 0, left: 13 });
    expect([doc.width, doc.height]).toEqual([64 + 64 + 16, 64]);
    expect(doc.mode).toBe('inpaint');
    expect(doc.mask.data[0]).toBe(255); // new left strip
    expect(doc.image!.data[0]).toBe(9); // edge-stretched
    doc.undo();
    expect([doc.width, doc.height]).toEqual([64, 64]);
    expect(doc.mask.data).toEqual(maskBefore);
  });

  it('a stroke after undoing a resize paints a private copy (history stays intact)', () => {
    const doc = new StudioDocument();
    doc.resize(64, 64);
    doc.resize(128, 128);
    doc.undo();
    stroke(doc, 5, 5);
    doc.undo(); // stroke
    doc.redo();
    expect(doc.mask.data[5 * 64 + 5]).toBe(255);
    doc.undo();
    doc.undo(); // back to 512 (first resize undone)
    expect(doc.width).toBe(512);
    doc.redo();
    expect(doc.mask.isEmpty()).toBe(true);
  });

  it('evicts old image changes when over its memory budget', () => {
    const doc = new StudioDocument(3 * 64 * 64 * 4);
    for (let i = 0; i < 6; i++) doc.setImage(createRaster(64, 64, [i, i, i, 255]));
    expect(doc.history.bytes).toBeLessThanOrEqual(3 * 64 * 64 * 4);
    expect(doc.history.undoCount).toBeLessThan(6);
    expect(doc.history.undoCount).toBeGreaterThan(0);
  });
});
