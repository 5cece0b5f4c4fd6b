// The generate payload for what is on the canvas. Pure: encoding pixels to PNG happens before.
import type { GeneratePayload } from '@shared/contract.js';
import type { GenerationMode } from './mode.js';

export interface SettingsSnapshot {
  prompt: string;
  negativePrompt: string;
  model: string;
  sampler: string;
  steps: number;
  cfgScale: number;
  seed: string | number;
  strength: number;
  maskBlur: number;
  inpaintOnlyMasked: boolean;
  inpaintPadding: number;
  batchCount: number;
}

export interface CanvasInputs {
  mode: GenerationMode;
  width: number;
  height: number;
  /** PNG of the init image (img2img, inpaint). */
  initImage?: Uint8Array;
  /** PNG of the mask, white = repaint (inpaint). */
  mask?: Uint8Array;
}

export function buildGeneratePayload(s: SettingsSnapshot, c: CanvasInputs): GeneratePayload {
  const payload: GeneratePayload = {
    model: s.model,
    prompt: s.prompt,
    negativePrompt: s.negativePrompt,
    steps: clampInt(s.steps, 1, 1000),
    cfgScale: Math.max(0, Number.isFinite(s.cfgScale) ? s.cfgScale : 7),
    seed: s.seed,
    width: c.width,
    height: c.height,
    batchCount: clampInt(s.batchCount, 1, 100),
    previewEvery: 1,
  };
  if (s.sampler) payload.sampler = s.sampler as GeneratePayload['sampler'];
  if (c.mode !== 'txt2img') {
    if (!c.initImage) throw new Error(`${c.mode} needs the init image`);
    payload.initImage = c.initImage;
    payload.strength = Math.min(1, Math.max(0, s.strength));
    payload.initImageFit = 'resize';
  }
  if (c.mode === 'inpaint') {
    if (!c.mask) throw new Error('inpainting needs the mask');
    payload.mask = c.mask;
    payload.maskBlur = Math.min(256, Math.max(0, s.maskBlur));
    payload.inpaintOnlyMasked = s.inpaintOnlyMasked;
    payload.inpaintPadding = clampInt(s.inpaintPadding, 0, 4096);
  }
  return payload;
}

function clampInt(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.round(Number.isFinite(v) ? v : lo)));
}
