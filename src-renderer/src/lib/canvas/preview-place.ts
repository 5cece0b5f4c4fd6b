// Where a live preview goes on the document: where its result will land. A frame of the canvas size is the
// whole picture (drawn at the origin); any other size is the generation region (the only-masked crop, or the
// whole canvas scaled, e.g. a latent preview at 1/8). While inpainting, only the masked area (grown by the
// mask blur) will change, so the preview is clipped to it and the rest of the image stays visible.
import type { GenerationMode } from '../state/mode.js';
import { clipRect, type Rect } from '../raster/rect.js';

export interface PreviewContext {
  docWidth: number;
  docHeight: number;
  mode: GenerationMode;
  /** Bounds of the painted mask, or null when it is empty. */
  maskBounds: Rect | null;
  inpaintOnlyMasked: boolean;
  inpaintPadding: number;
  maskBlur: number;
}

export interface PreviewPlacement {
  place: Rect;
  clip: Rect | null;
}

const grow = (r: Rect, by: number): Rect => ({ x: r.x - by, y: r.y - by, width: r.width + 2 * by, height: r.height + 2 * by });

/** The rectangle a job works on: the padded mask for only-masked inpainting, else the whole canvas. */
export function generationRegion(c: PreviewContext): Rect {
  const whole = { x: 0, y: 0, width: c.docWidth, height: c.docHeight };
  if (c.mode !== 'inpaint' || !c.inpaintOnlyMasked || !c.maskBounds) return whole;
  return clipRect(grow(c.maskBounds, c.inpaintPadding), c.docWidth, c.docHeight);
}

/**
 * `pictureWidth` marks a frame the engine composited as the whole picture (inpainting previews, even of an
 * only-masked crop); older engines send only the crop.
 */
export function previewPlacement(frame: { width: number; height: number; pictureWidth?: number }, c: PreviewContext): PreviewPlacement {
  const wholePicture = frame.pictureWidth !== undefined || (frame.width === c.docWidth && frame.height === c.docHeight);
  const place = wholePicture ? { x: 0, y: 0, width: c.docWidth, height: c.docHeight } : generationRegion(c);
  const clip = c.mode === 'inpaint' && c.maskBounds ? clipRect(grow(c.maskBounds, c.maskBlur), c.docWidth, c.docHeight) : null;
  return { place, clip };
}
