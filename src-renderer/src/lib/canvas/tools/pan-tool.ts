// Move/pan: idle → panning (pointer down) → idle. Moves the view, never the document.
import type { Tool, ToolPointer } from './tool.js';

export interface Pannable {
  panBy(dx: number, dy: number): void;
}

export type PanState = 'idle' | 'panning';

export class PanTool implements Tool<PanState> {
  state: PanState = 'idle';
  private last = { x: 0, y: 0 };

  constructor(private readonly view: Pannable) {}

  down(p: ToolPointer): void {
    if (this.state !== 'idle') return;
    this.last = { ...p.screen };
    this.state = 'panning';
  }

  move(p: ToolPointer): void {
    if (this.state !== 'panning') return;
    this.view.panBy(p.screen.x - this.last.x, p.screen.y - this.last.y);
    this.last = { ...p.screen };
  }

  up(p: ToolPointer): void {
    this.move(p);
    this.state = 'idle';
  }

  cancel(): void {
    this.state = 'idle';
  }
}
