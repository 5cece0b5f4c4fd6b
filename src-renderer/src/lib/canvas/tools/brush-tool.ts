// Brush and eraser: idle → drawing (pointer down) → idle (pointer up commits one history entry;
// cancel restores the mask).
import type { MaskRaster } from '../../raster/mask-raster.js';
import { StrokePainter, type BrushShape, type MaskPatch } from '../../raster/stroke-painter.js';
import type { Tool, ToolPointer } from './tool.js';

export interface BrushTarget {
  readonly mask: MaskRaster;
  commitStroke(patch: MaskPatch, label: string): void;
}

export type BrushState = 'idle' | 'drawing';

export class BrushTool implements Tool<BrushState> {
  state: BrushState = 'idle';
  private painter: StrokePainter | null = null;

  constructor(
    private readonly target: BrushTarget,
    private readonly shape: () => BrushShape,
  ) {}

  down(p: ToolPointer): void {
    if (this.state !== 'idle' || p.button !== 0) return;
    const mask = this.target.mask;
    if (!this.painter) this.painter = new StrokePainter(mask);
    else this.painter.retarget(mask);
    this.painter.begin(p.doc, this.shape());
    this.state = 'drawing';
  }

  move(p: ToolPointer): void {
    if (this.state === 'drawing') this.painter!.lineTo(p.doc);
  }

  up(p: ToolPointer): void {
    if (this.state !== 'drawing') return;
    this.painter!.lineTo(p.doc);
    const patch = this.painter!.end();
    this.state = 'idle';
    if (patch) this.target.commitStroke(patch, this.shape().mode === 'erase' ? 'Erase' : 'Brush stroke');
  }

  cancel(): void {
    if (this.state !== 'drawing') return;
    this.painter!.cancel();
    this.state = 'idle';
  }
}
