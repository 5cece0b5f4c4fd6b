// Routes pointer events to a tool. The chosen tool takes primary-button gestures; the middle button,
// or any button while Space is held, pans instead. A gesture stays with the tool that began it.
import { BrushTool, type BrushTarget } from './brush-tool.js';
import { PanTool, type Pannable } from './pan-tool.js';
import type { Tool, ToolName, ToolPointer } from './tool.js';
import type { BrushShape } from '../../raster/stroke-painter.js';

/** What the cursor should look like. */
export type CursorKind = 'brush' | 'grab' | 'grabbing';

export class ToolRouter {
  readonly brush: BrushTool;
  readonly pan: PanTool;
  private gesture: Tool | null = null;
  private spaceHeld = false;

  constructor(
    target: BrushTarget,
    view: Pannable,
    shape: () => BrushShape,
    private readonly activeTool: () => ToolName,
  ) {
    this.brush = new BrushTool(target, shape);
    this.pan = new PanTool(view);
  }

  get busy(): boolean {
    return this.gesture !== null;
  }

  get cursor(): CursorKind {
    if (this.gesture === this.pan) return 'grabbing';
    if (this.spaceHeld || this.activeTool() === 'move') return 'grab';
    return 'brush';
  }

  down(p: ToolPointer): void {
    if (this.gesture) return;
    const panning = p.button === 1 || this.spaceHeld || (this.activeTool() === 'move' && p.button === 0);
    const tool: Tool | null = panning ? this.pan : p.button === 0 ? this.brush : null;
    if (!tool) return;
    this.gesture = tool;
    tool.down(panning ? { ...p, button: 0 } : p);
  }

  move(p: ToolPointer): void {
    this.gesture?.move(p);
  }

  up(p: ToolPointer): void {
    const tool = this.gesture;
    this.gesture = null;
    tool?.up(p);
  }

  cancel(): void {
    this.gesture?.cancel();
    this.gesture = null;
  }

  setSpace(held: boolean): void {
    this.spaceHeld = held;
  }
}
