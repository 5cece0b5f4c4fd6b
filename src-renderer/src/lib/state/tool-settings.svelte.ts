// The active tool and the brush's shape (brush and eraser share size, hardness and opacity).
import type { ToolName } from '../canvas/tools/tool.js';
import type { BrushShape } from '../raster/stroke-painter.js';

export type { ToolName };

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

  shape(): BrushShape {
    return { size: this.size, hardness: this.hardness, opacity: this.opacity, mode: this.tool === 'eraser' ? 'erase' : 'paint' };
  }
}
