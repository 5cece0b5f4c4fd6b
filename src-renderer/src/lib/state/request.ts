// The generate payload for what is on the canvas. Pure. The limits are the request contract's
// (@shared/generation-limits): the renderer keeps no copies, it only keeps the fields inside them.
import type { GeneratePayload } from '@shared/contract.js';
import { generationLimits as limits, type SamplerName } from '@shared/generation-limits.js';
import type { GenerationMode } from './mode.js';

export interface SettingsSnapshot {
  prompt: string;
  negativePrompt: string;
  model: string;
  /** '' = the model's own scheduler. */
  sampler: SamplerName | '';
  steps: number;
  cfgScale: number;
  seed: string | number;
  strength: number;
  maskBlur: number;
  inpaintOnlyMasked: boolean;
  inpaintPadding: number;
  batchCount: number;
}

/** The mask raster as it is painted: one byte a pixel, 255 = repaint. */
export interface MaskPixels {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface CanvasInputs {
  mode: GenerationMode;
  width: number;
  height: number;
  /** PNG of the init image (img2img, inpaint). */
  initImage?: Uint8Array;
  /** The mask (inpaint), sent as raw pixels: the engine reads them as they are, with no PNG in between. */
  mask?: MaskPixels;
}

export function buildGeneratePayload(s: SettingsSnapshot, c: CanvasInputs): GeneratePayload {
  const payload: GeneratePayload = {
    model: s.model,
    prompt: s.prompt,
    negativePrompt: s.negativePrompt,
    steps: clampInt(s.steps, limits.steps.min, limits.steps.max),
    cfgScale: Math.max(limits.cfgScale.min, Number.isFinite(s.cfgScale) ? s.cfgScale : limits.cfgScale.default),
    seed: s.seed,
    width: c.width,
    height: c.height,
    batchCount: clampInt(s.batchCount, limits.batchCount.min, limits.batchCount.max),
    previewEvery: 1,
  };
  if (s.sampler) payload.sampler = s.sampler;
  if (c.mode !== 'txt2img') {
    if (!c.initImage) throw new Error(`${c.mode} needs the init image`);
    payload.initImage = c.initImage;
    payload.strength = clamp(s.strength, limits.strength.min, limits.strength.max);
    payload.initImageFit = 'resize';
  }
  if (c.mode === 'inpaint') {
    if (!c.mask) throw new Error('inpainting needs the mask');
    payload.mask = { width: c.mask.width, height: c.mask.height, data: c.mask.data };
    payload.maskBlur = clamp(s.maskBlur, limits.maskBlur.min, limits.maskBlur.max);
    payload.inpaintOnlyMasked = s.inpaintOnlyMasked;
    payload.inpaintPadding = clampInt(s.inpaintPadding, limits.inpaintPadding.min, limits.inpaintPadding.max);
  }
  return payload;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Number.isFinite(v) ? v : lo));
}

function clampInt(v: number, lo: number, hi: number): number {
  return clamp(Math.round(Number.isFinite(v) ? v : lo), lo, hi);
}
