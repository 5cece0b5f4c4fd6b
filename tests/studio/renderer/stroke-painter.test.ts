import { describe, expect, it } from 'vitest';
import { MaskRaster } from '../../../src-renderer/src/lib/raster/mask-raster.js';
import { dabCoverage, StrokePainter, type BrushShape } from '../../../src-renderer/src/lib/raster/stroke-painter.js';
import type { Rect } from '../../../src-renderer/src/lib/raster/rect.js';

const hard: BrushShape = { size: 10, hardness: 1, opacity: 1, mode: 'paint' };

describe('StrokePainter', () => {
  it('paints a line of dabs and reports only the dirty rectangle', () => {
    const mask = new MaskRaster(100, 100);
    const dirty: Rect[] = [];
    mask.onChange((r) => dirty.push(r));
    const p = new StrokePainter(mask);
    p.begin({ x: 20, y: 50 }, hard);
    p.lineTo({ x: 80, y: 50 });
    const patch = p.end()!;
    expect(mask.data[50 * 100 + 50]).toBe(255);
    expect(mask.data[10 * 100 + 50]).toBe(0);
    // The patch covers the stroke (x 14..86, y 44..56 or so), not the whole canvas.
    expect(patch.rect.x).toBeGreaterThanOrEqual(12);
    expect(patch.rect.x + patch.rect.width).toBeLessThanOrEqual(88);
    expect(patch.rect.height).toBeLessThanOrEqual(14);
    expect(patch.before.every((v) => v === 0)).toBe(true);
    expect(patch.after.length).toBe(patch.rect.width * patch.rect.height);
    expect(dirty.length).toBeGreaterThan(0);
    expect(dirty.every((r) => r.width * r.height < 100 * 100)).toBe(true);
  });

  it('does not build up past the opacity where a stroke crosses itself', () => {
    const mask = new MaskRaster(64, 64);
    const p = new StrokePainter(mask);
    p.begin({ x: 10, y: 32 }, { ...hard, opacity: 0.5 });
    p.lineTo({ x: 54, y: 32 });
    p.lineTo({ x: 10, y: 32 });
    p.end();
    expect(mask.data[32 * 64 + 32]).toBe(128);
    // A second stroke does build up: 128 + (255−128)·0.5.
    p.begin({ x: 32, y: 32 }, { ...hard, opacity: 0.5 });
    p.end();
    expect(mask.data[32 * 64 + 32]).toBe(192);
  });

  it('erases towards zero, and cancel restores the mask', () => {
    const mask = new MaskRaster(32, 32);
    mask.fill(255);
    const p = new StrokePainter(mask);
    p.begin({ x: 16, y: 16 }, { ...hard, mode: 'erase' });
    expect(mask.data[16 * 32 + 16]).toBe(0);
    p.cancel();
    expect(mask.data.every((v) => v === 255)).toBe(true);
    expect(p.end()).toBeNull();
  });

  it('soft brushes fall off towards the edge', () => {
    expect(dabCoverage(0, 10, 0.5)).toBe(1);
    expect(dabCoverage(7.5, 10, 0.5)).toBeGreaterThan(0);
    expect(dabCoverage(7.5, 10, 0.5)).toBeLessThan(1);
    expect(dabCoverage(11, 10, 0.5)).toBe(0);
    expect(dabCoverage(9.5, 10, 1)).toBe(1);
    expect(dabCoverage(10.25, 10, 1)).toBe(0.25);
  });

  it('clips dabs at the canvas edge', () => {
    const mask = new MaskRaster(16, 16);
    const p = new StrokePainter(mask);
    p.begin({ x: -2, y: -2 }, { ...hard, size: 12 });
    const patch = p.end()!;
    expect(patch.rect.x).toBe(0);
    expect(patch.rect.y).toBe(0);
    expect(mask.data[0]).toBe(255);
  });
});

describe('MaskRaster', () => {
  it('finds bounds, empties, inverts', () => {
    const m = new MaskRaster(10, 10);
    expect(m.isEmpty()).toBe(true);
    expect(m.bounds()).toBeNull();
    m.data[3 * 10 + 4] = 9;
    m.data[6 * 10 + 2] = 1;
    expect(m.isEmpty()).toBe(false);
    expect(m.bounds()).toEqual({ x: 2, y: 3, width: 3, height: 4 });
    m.invert();
    expect(m.data[0]).toBe(255);
    expect(m.data[3 * 10 + 4]).toBe(246);
  });
});
