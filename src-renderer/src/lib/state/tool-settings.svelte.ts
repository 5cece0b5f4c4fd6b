// The active tool and the brush's shape (brush and eraser share size, hardness and opacity).
import type { ToolName } from '../canvas/tools/tool.js';
import type { BrushShape } from '../raster/stroke-painter.js';

export type { ToolName };

export interface SavedTools {
  tool: ToolName;
  size: number;
  hardness: number;
  opacity: number;
}

export const MIN_BRUSH = 1;
export const MAX_BRUSH = 1024;

export class ToolSettings {
  tool = $state<ToolName>('brush');
  size = $state(48);
  hardness = $state(0.7);
  opacity = $state(1);

  /** `[` / `]`: about 15% smaller or larger, at least one pixel. */
  grow(direction: 1 | -1): void {
    const step = Math.max(1, Math.round(this.size * 0.15));
    this.size = Math.min(MAX_BRUSH, Math.max(MIN_BRUSH, this.size + direction * step));
  }

  /** What survives a reload (the App keeps it in localStorage). */
  saved(): SavedTools {
    return { tool: this.tool, size: this.size, hardness: this.hardness, opacity: this.opacity };
  }

  /** Takes back what saved() gave; anything missing or out of range keeps the default. */
  restore(value: unknown): void {
    if (!value || typeof value !== 'object') return;
    const v = value as Partial<Record<keyof SavedTools, unknown>>;
    if (v.tool === 'brush' || v.tool === 'eraser' || v.tool === 'move') this.tool = v.tool;
    const inRange = (x: unknown, lo: number, hi: number): x is number => typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;
    if (inRange(v.size, MIN_BRUSH, MAX_BRUSH)) this.size = Math.round(v.size);
    if (inRange(v.hardness, 0, 1)) this.hardness = v.hardness;
    if (inRange(v.opacity, 0.05, 1)) this.opacity = v.opacity;
  }

  shape(): BrushShape {
    return { size: this.size, hardness: this.hardness, opacity: this.opacity, mode: this.tool === 'eraser' ? 'erase' : 'paint' };
  }
}
