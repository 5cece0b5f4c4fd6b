// Zoom and pan of the canvas view: screen = doc · scale + (x, y).
export const MIN_SCALE = 0.02;
export const MAX_SCALE = 32;

export interface ScreenPoint {
  x: number;
  y: number;
}

export class Viewport {
  scale = $state(1);
  x = $state(0);
  y = $state(0);
  /** Size of the element showing the canvas, in CSS pixels. */
  viewWidth = $state(800);
  viewHeight = $state(600);
  readonly zoomPercent = $derived(Math.round(this.scale * 100));
  /** Room kept free at the bottom when fitting (the floating result bar). */
  bottomInset = 0;
  /** Whether the view is as the last fit left it: a resize of the view then fits again. */
  private fitted = false;

  toDoc(p: ScreenPoint): ScreenPoint {
    return { x: (p.x - this.x) / this.scale, y: (p.y - this.y) / this.scale };
  }

  panBy(dx: number, dy: number): void {
    this.fitted = false;
    this.x += dx;
    this.y += dy;
  }

  /** Zoom by `factor` keeping the document point under `at` (screen) in place. */
  zoomAt(at: ScreenPoint, factor: number): void {
    const next = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.scale * factor));
    const doc = this.toDoc(at);
    this.fitted = false;
    this.scale = next;
    this.x = at.x - doc.x * next;
    this.y = at.y - doc.y * next;
  }

  /** Ctrl+0: the whole document visible, centred in the free area, with a margin. */
  fit(docWidth: number, docHeight: number, margin = 24): void {
    const sx = (this.viewWidth - 2 * margin) / docWidth;
    const sy = (this.viewHeight - this.bottomInset - 2 * margin) / docHeight;
    this.center(docWidth, docHeight, Math.min(MAX_SCALE, Math.max(MIN_SCALE, Math.min(sx, sy))));
    this.fitted = true;
  }

  /** Ctrl+1: one document pixel per screen pixel, centred. */
  actualSize(docWidth: number, docHeight: number): void {
    this.center(docWidth, docHeight, 1);
    this.fitted = false;
  }

  /**
   * The element showing the canvas changed size (a panel opened or closed, the window resized): a fitted
   * view fits again; a zoomed or panned one keeps the document point at the centre of the view in place.
   */
  resize(width: number, height: number, docWidth: number, docHeight: number): void {
    const dx = (width - this.viewWidth) / 2;
    const dy = (height - this.viewHeight) / 2;
    this.viewWidth = width;
    this.viewHeight = height;
    if (this.fitted) this.fit(docWidth, docHeight);
    else {
      this.x = Math.round(this.x + dx);
      this.y = Math.round(this.y + dy);
    }
  }

  private center(docWidth: number, docHeight: number, scale: number): void {
    this.scale = scale;
    this.x = Math.round((this.viewWidth - docWidth * scale) / 2);
    this.y = Math.round((this.viewHeight - this.bottomInset - docHeight * scale) / 2);
  }
}
