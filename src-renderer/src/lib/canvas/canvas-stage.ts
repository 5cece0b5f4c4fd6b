// The Konva stage: it only draws the document (image, mask overlay, live preview, result) and turns
// DOM pointer events into document coordinates for the tools. Layers, bottom to top:
//   image    the canvas area and the init image
//   preview  the step-by-step preview of the running job (clipped to where the result will change)
//   result   the result waiting to be accepted or discarded
//   mask     the translucent mask overlay (redrawn per animation frame, only the dirty part re-uploaded);
//            above every picture, so a new mask stroke is never hidden by a preview or a pending result
//   ui       brush cursor
import Konva from 'konva';
import type { MaskRaster } from '../raster/mask-raster.js';
import { emptyRect, isEmptyRect, unionRect, type Rect } from '../raster/rect.js';
import type { RgbaRaster } from '../raster/rgba-raster.js';
import { paintMaskRect } from './overlay.js';
import { StageStats } from './stage-stats.js';
import type { CursorKind } from './tools/tool-router.js';
import type { ToolPointer } from './tools/tool.js';

export interface StageInput {
  down(p: ToolPointer): void;
  move(p: ToolPointer): void;
  up(p: ToolPointer): void;
  cancel(): void;
  /** Wheel: zoom around the pointer. */
  wheel(screen: { x: number; y: number }, deltaY: number): void;
  /** Screen → document. */
  toDoc(screen: { x: number; y: number }): { x: number; y: number };
  /** After pointer events (hover too): refresh the cursor. */
  hover(doc: { x: number; y: number } | null): void;
}

export interface PreviewPicture {
  width: number;
  height: number;
  rgba: Uint8Array;
  /** Where it goes on the document (the whole canvas, or the only-masked crop). */
  place: Rect;
  /** The part of the document it may cover (where the result will change); null: all of `place`. */
  clip?: Rect | null;
  /** performance.now() of the step's progress event, for the delay statistic. */
  stepAt?: number;
}

function makeCanvas(w: number, h: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = Math.max(1, w);
  c.height = Math.max(1, h);
  return c;
}

export class CanvasStage {
  readonly stage: Konva.Stage;
  readonly stats = new StageStats();
  private readonly imageLayer = new Konva.Layer({ listening: false });
  private readonly maskLayer = new Konva.Layer({ listening: false, imageSmoothingEnabled: false });
  private readonly previewLayer = new Konva.Layer({ listening: false });
  private readonly resultLayer = new Konva.Layer({ listening: false });
  private readonly uiLayer = new Konva.Layer({ listening: false });
  private readonly backdrop = new Konva.Rect({ fill: '#3a3a40', perfectDrawEnabled: false });
  private readonly imageNode = new Konva.Image({ image: undefined, visible: false, perfectDrawEnabled: false });
  private readonly border = new Konva.Rect({ stroke: '#8a8a96', strokeWidth: 1, strokeScaleEnabled: false, perfectDrawEnabled: false });
  private readonly maskCanvas = makeCanvas(1, 1);
  private readonly maskCtx = this.maskCanvas.getContext('2d', { willReadFrequently: false })!;
  private readonly maskNode = new Konva.Image({ image: this.maskCanvas, opacity: 0.55, perfectDrawEnabled: false });
  private readonly previewCanvas = makeCanvas(1, 1);
  private readonly previewNode = new Konva.Image({ image: this.previewCanvas, visible: false, perfectDrawEnabled: false });
  private readonly resultNode = new Konva.Image({ image: undefined, visible: false, perfectDrawEnabled: false });
  private readonly cursorNode = new Konva.Circle({ radius: 10, stroke: '#ffffff', strokeWidth: 1, strokeScaleEnabled: false, visible: false, shadowColor: 'black', shadowBlur: 2, shadowForStrokeEnabled: true, perfectDrawEnabled: false });

  private mask: MaskRaster | null = null;
  private unsubscribeMask: (() => void) | null = null;
  private maskDirty: Rect = emptyRect();
  private pendingPreview: PreviewPicture | null = null;
  private frame = 0;
  private activePointer: number | null = null;
  private readonly cleanups: Array<() => void> = [];

  constructor(
    private readonly container: HTMLDivElement,
    private readonly input: StageInput,
  ) {
    this.stage = new Konva.Stage({ container, width: container.clientWidth || 800, height: container.clientHeight || 600 });
    this.imageLayer.add(this.backdrop, this.imageNode, this.border);
    this.maskLayer.add(this.maskNode);
    this.previewLayer.add(this.previewNode);
    this.resultLayer.add(this.resultNode);
    this.uiLayer.add(this.cursorNode);
    this.stage.add(this.imageLayer, this.previewLayer, this.resultLayer, this.maskLayer, this.uiLayer);
    this.listen();
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.unsubscribeMask?.();
    for (const c of this.cleanups) c();
    this.stage.destroy();
  }

  // ---- what to draw ------------------------------------------------------------------------

  setViewSize(width: number, height: number): void {
    this.stage.size({ width: Math.max(1, width), height: Math.max(1, height) });
    this.stage.batchDraw();
  }

  setView(scale: number, x: number, y: number): void {
    this.stage.scale({ x: scale, y: scale });
    this.stage.position({ x, y });
    // Nearest-neighbour when zoomed in so pixels stay crisp; smooth when zoomed out. The same for every
    // picture, so a pending result looks exactly as it will once accepted.
    for (const layer of [this.imageLayer, this.previewLayer, this.resultLayer]) layer.imageSmoothingEnabled(scale < 1);
    this.stage.batchDraw();
  }

  setDocumentSize(width: number, height: number): void {
    this.backdrop.size({ width, height });
    this.border.size({ width, height });
    this.imageLayer.batchDraw();
  }

  setImage(raster: RgbaRaster | null): void {
    if (!raster) {
      this.imageNode.visible(false);
    } else {
      const c = makeCanvas(raster.width, raster.height);
      c.getContext('2d')!.putImageData(new ImageData(raster.data as Uint8ClampedArray<ArrayBuffer>, raster.width, raster.height), 0, 0);
      this.imageNode.setAttrs({ image: c, width: raster.width, height: raster.height, visible: true });
    }
    this.imageLayer.batchDraw();
  }

  /** Draw this mask (and follow its changes). */
  attachMask(mask: MaskRaster): void {
    this.unsubscribeMask?.();
    this.mask = mask;
    this.maskCanvas.width = mask.width;
    this.maskCanvas.height = mask.height;
    this.maskNode.size({ width: mask.width, height: mask.height });
    this.maskDirty = { x: 0, y: 0, width: mask.width, height: mask.height };
    this.unsubscribeMask = mask.onChange((r) => {
      this.maskDirty = unionRect(this.maskDirty, r);
      this.schedule();
    });
    this.schedule();
  }

  setMaskVisible(visible: boolean): void {
    this.maskNode.visible(visible);
    this.maskLayer.batchDraw();
  }

  /** The newest preview frame; drawn at the next animation frame (older undrawn ones are dropped). */
  showPreview(p: PreviewPicture): void {
    this.pendingPreview = p;
    this.schedule();
  }

  hidePreview(): void {
    this.pendingPreview = null;
    this.previewNode.visible(false);
    this.previewLayer.batchDraw();
  }

  showResult(raster: RgbaRaster | null): void {
    if (!raster) {
      this.resultNode.visible(false);
    } else {
      const c = makeCanvas(raster.width, raster.height);
      c.getContext('2d')!.putImageData(new ImageData(raster.data as Uint8ClampedArray<ArrayBuffer>, raster.width, raster.height), 0, 0);
      this.resultNode.setAttrs({ image: c, x: 0, y: 0, width: raster.width, height: raster.height, visible: true });
    }
    this.resultLayer.batchDraw();
  }

  setCursor(kind: CursorKind, brushSize: number, doc: { x: number; y: number } | null): void {
    this.container.style.cursor = kind === 'brush' ? 'none' : kind;
    const show = kind === 'brush' && doc !== null;
    this.cursorNode.setAttrs({ visible: show, radius: Math.max(0.5, brushSize / 2), x: doc?.x ?? 0, y: doc?.y ?? 0 });
    this.uiLayer.batchDraw();
  }

  // ---- drawing -----------------------------------------------------------------------------

  private schedule(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  private flush(): void {
    this.frame = 0;
    const t0 = performance.now();
    if (this.mask && !isEmptyRect(this.maskDirty)) {
      paintMaskRect(this.maskCtx, this.mask, this.maskDirty);
      this.maskDirty = emptyRect();
      this.maskLayer.draw();
      this.stats.maskFrameMs.add(performance.now() - t0 + this.stats.inputMs);
      this.stats.inputMs = 0;
    }
    const p = this.pendingPreview;
    if (p) {
      this.pendingPreview = null;
      if (this.previewCanvas.width !== p.width || this.previewCanvas.height !== p.height) {
        this.previewCanvas.width = p.width;
        this.previewCanvas.height = p.height;
      }
      const ctx = this.previewCanvas.getContext('2d')!;
      ctx.putImageData(new ImageData(new Uint8ClampedArray(p.rgba.buffer as ArrayBuffer, p.rgba.byteOffset, p.rgba.byteLength), p.width, p.height), 0, 0);
      this.previewNode.setAttrs({ image: this.previewCanvas, ...p.place, visible: true });
      this.previewLayer.clip(p.clip ?? p.place);
      this.previewLayer.draw();
      this.stats.previewsDrawn++;
      this.stats.previewDrawnAt.add(performance.now());
      if (p.stepAt !== undefined) this.stats.previewDelayMs.add(performance.now() - p.stepAt);
    }
  }

  // ---- input -------------------------------------------------------------------------------

  private pointer(e: PointerEvent): ToolPointer {
    const box = this.container.getBoundingClientRect();
    const screen = { x: e.clientX - box.left, y: e.clientY - box.top };
    return { screen, doc: this.input.toDoc(screen), button: e.button };
  }

  private listen(): void {
    const el = this.container;
    const on = <K extends keyof HTMLElementEventMap>(type: K, fn: (e: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions) => {
      el.addEventListener(type, fn as EventListener, opts);
      this.cleanups.push(() => el.removeEventListener(type, fn as EventListener, opts));
    };
    on('pointerdown', (e) => {
      if (this.activePointer !== null) return;
      const t0 = performance.now();
      this.activePointer = e.pointerId;
      el.setPointerCapture(e.pointerId);
      if (e.button === 1) e.preventDefault();
      const p = this.pointer(e);
      this.input.down(p);
      this.input.hover(p.doc);
      this.stats.inputMs += performance.now() - t0;
    });
    on('pointermove', (e) => {
      const t0 = performance.now();
      if (this.activePointer === e.pointerId) {
        // Coalesced events: every sample the hardware gave since the last frame, for smooth strokes.
        const samples = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
        for (const s of samples.length ? samples : [e]) this.input.move(this.pointer(s));
      }
      this.input.hover(this.pointer(e).doc);
      this.stats.inputMs += performance.now() - t0;
    });
    const end = (e: PointerEvent, cancelled: boolean) => {
      if (this.activePointer !== e.pointerId) return;
      this.activePointer = null;
      if (el.hasPointerCapture(e.pointerId)) el.releasePointerCapture(e.pointerId);
      if (cancelled) this.input.cancel();
      else this.input.up(this.pointer(e));
    };
    on('pointerup', (e) => end(e, false));
    on('pointercancel', (e) => end(e, true));
    on('pointerleave', () => {
      if (this.activePointer === null) this.input.hover(null);
    });
    on('auxclick', (e) => e.preventDefault());
    on('contextmenu', (e) => e.preventDefault());
    on(
      'wheel',
      (e) => {
        e.preventDefault();
        const box = el.getBoundingClientRect();
        const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
        this.input.wheel({ x: e.clientX - box.left, y: e.clientY - box.top }, delta);
      },
      { passive: false },
    );
  }
}
