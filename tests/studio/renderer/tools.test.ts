import { describe, expect, it } from 'vitest';
import { ToolRouter } from '../../../src-renderer/src/lib/canvas/tools/tool-router.js';
import type { ToolName, ToolPointer } from '../../../src-renderer/src/lib/canvas/tools/tool.js';
import { MaskRaster } from '../../../src-renderer/src/lib/raster/mask-raster.js';
import type { MaskPatch } from '../../../src-renderer/src/lib/raster/stroke-painter.js';
import { ToolSettings } from '../../../src-renderer/src/lib/state/tool-settings.svelte.js';
import { Viewport } from '../../../src-renderer/src/lib/state/viewport.svelte.js';

const at = (x: number, y: number, button = 0): ToolPointer => ({ doc: { x, y }, screen: { x, y }, button });

function setup(tool: ToolName = 'brush') {
  const commits: Array<{ patch: MaskPatch; label: string }> = [];
  const target = { mask: new MaskRaster(64, 64), commits, commitStroke: (patch: MaskPatch, label: string) => void commits.push({ patch, label }) };
  const view = new Viewport();
  const settings = new ToolSettings();
  settings.tool = tool;
  settings.size = 6;
  const router = new ToolRouter(target, view, () => settings.shape(), () => settings.tool);
  return { target, view, settings, router };
}

describe('brush tool state machine', () => {
  it('idle → drawing → idle, one history entry per stroke', () => {
    const { target, router } = setup();
    expect(router.brush.state).toBe('idle');
    router.down(at(10, 10));
    expect(router.brush.state).toBe('drawing');
    router.move(at(20, 10));
    router.move(at(30, 10));
    router.up(at(30, 10));
    expect(router.brush.state).toBe('idle');
    expect(target.commits).toHaveLength(1);
    expect(target.commits[0]!.label).toBe('Brush stroke');
    expect(target.mask.data[10 * 64 + 25]).toBe(255);
  });

  it('cancel abandons the stroke without a history entry', () => {
    const { target, router } = setup();
    router.down(at(10, 10));
    router.move(at(40, 10));
    router.cancel();
    expect(router.brush.state).toBe('idle');
    expect(target.mask.isEmpty()).toBe(true);
    expect(target.commits).toHaveLength(0);
  });

  it('the eraser records an Erase', () => {
    const { target, router, settings } = setup('eraser');
    target.mask.fill(255);
    router.down(at(10, 10));
    router.up(at(10, 10));
    expect(target.commits[0]!.label).toBe('Erase');
    expect(target.mask.data[10 * 64 + 10]).toBe(0);
    expect(settings.shape().mode).toBe('erase');
  });

  it('ignores moves while idle and a second button during a stroke', () => {
    const { target, router } = setup();
    router.move(at(5, 5));
    expect(target.mask.isEmpty()).toBe(true);
    router.down(at(10, 10));
    router.down(at(50, 50, 1)); // middle button mid-stroke: ignored
    expect(router.pan.state).toBe('idle');
    router.up(at(10, 10));
  });
});

describe('pan: Space-drag, middle mouse, move tool', () => {
  it('middle button pans the view, never paints', () => {
    const { target, router, view } = setup();
    router.down(at(100, 100, 1));
    expect(router.pan.state).toBe('panning');
    expect(router.cursor).toBe('grabbing');
    router.move(at(130, 90, 1));
    router.up(at(130, 90, 1));
    expect([view.x, view.y]).toEqual([30, -10]);
    expect(router.pan.state).toBe('idle');
    expect(target.mask.isEmpty()).toBe(true);
  });

  it('Space turns the primary button into pan', () => {
    const { router, view } = setup();
    router.setSpace(true);
    expect(router.cursor).toBe('grab');
    router.down(at(0, 0));
    router.move(at(5, 7));
    router.up(at(5, 7));
    router.setSpace(false);
    expect([view.x, view.y]).toEqual([5, 7]);
    expect(router.cursor).toBe('brush');
  });

  it('the move tool pans with the primary button', () => {
    const { router, view, target } = setup('move');
    router.down(at(0, 0));
    router.move(at(-4, 0));
    router.up(at(-4, 0));
    expect(view.x).toBe(-4);
    expect(target.mask.isEmpty()).toBe(true);
  });
});

describe('tool settings', () => {
  it('[ and ] resize the brush within limits', () => {
    const s = new ToolSettings();
    s.size = 1;
    s.grow(-1);
    expect(s.size).toBe(1);
    s.size = 100;
    s.grow(1);
    expect(s.size).toBe(115);
    s.grow(-1);
    expect(s.size).toBeLessThan(115);
  });
});

describe('viewport', () => {
  it('zooms about the pointer and converts screen ↔ document', () => {
    const v = new Viewport();
    v.zoomAt({ x: 100, y: 50 }, 2);
    expect(v.scale).toBe(2);
    expect(v.toDoc({ x: 100, y: 50 })).toEqual({ x: 100, y: 50 });
    expect(v.toDoc({ x: 102, y: 50 })).toEqual({ x: 101, y: 50 });
  });

  it('fits and shows 100%', () => {
    const v = new Viewport();
    v.viewWidth = 1000;
    v.viewHeight = 600;
    v.fit(2048, 2048, 0);
    expect(v.scale).toBeCloseTo(600 / 2048);
    expect(v.y).toBe(0);
    v.actualSize(200, 100);
    expect([v.scale, v.x, v.y]).toEqual([1, 400, 250]);
  });
});
