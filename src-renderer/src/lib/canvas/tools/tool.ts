// A canvas tool is a small state machine driven by pointer events.
import type { Point } from '../../raster/stroke-painter.js';

export interface ToolPointer {
  /** Position in document pixels. */
  doc: Point;
  /** Position in screen (stage) pixels. */
  screen: Point;
  /** 0 = primary, 1 = middle, 2 = secondary. */
  button: number;
}

export interface Tool<S extends string = string> {
  readonly state: S;
  down(p: ToolPointer): void;
  move(p: ToolPointer): void;
  up(p: ToolPointer): void;
  /** Abandon the gesture in progress (Esc, pointer lost, tool switch). */
  cancel(): void;
}

export type ToolName = 'brush' | 'eraser' | 'move';
