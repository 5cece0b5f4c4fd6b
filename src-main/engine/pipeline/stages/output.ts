// Stage 7: the finished image as a PNG with its infotext and the stored (JSON-safe) request.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { A1111_SAMPLER_NAMES, encodePng, formatInfotext, INFOTEXT_CHUNK_KEY, REQUEST_CHUNK_KEY, type RgbaImage } from '../../image/index.js';
import type { GenerateHooks, GenerateResult, ImageInput, NormalizedRequest, PipelineModel, StoredRequest } from '../types.js';
import type { GenerationPlan } from './check-inputs.js';

function sha(image: ImageInput): { sha256: string; bytes: number } {
  // File bytes, or the raw pixels of the studio's canvas.
  const bytes = image instanceof Uint8Array ? image : image.data;
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

function rgbaToRgb(rgba: Uint8Array): Uint8Array {
  const n = rgba.length / 4;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[i * 3] = rgba[i * 4]!;
    out[i * 3 + 1] = rgba[i * 4 + 1]!;
    out[i * 3 + 2] = rgba[i * 4 + 2]!;
  }
  return out;
}

/** Infotext "Model": hooks.modelName, else model.info.name, else the basename of request.model / model.info.dir. */
export function modelDisplayName(model: PipelineModel, req: NormalizedRequest, hooks: GenerateHooks): string | undefined {
  if (hooks.modelName) return hooks.modelName;
  if (model.info.name) return model.info.name;
  const dir = req.model ?? model.info.dir;
  return dir ? path.basename(path.resolve(dir)) : undefined;
}

/**
 * The request as one image of it: its own seed, batchCount 1, binary inputs as SHA-256. Fields keep the
 * request's order (the JSON is in every PNG: the same request must give the same bytes).
 */
function storedRequest(req: NormalizedRequest, plan: GenerationPlan, seed: string, modelName: string | undefined): StoredRequest {
  const stored = {
    ...req,
    ...(req.initImage ? { initImage: sha(req.initImage) } : {}),
    ...(req.mask ? { mask: sha(req.mask) } : {}),
    ...(modelName !== undefined ? { model: modelName } : {}),
    sampler: plan.sampler,
    seed,
    batchCount: 1,
  } as StoredRequest;
  if (!req.initImage) delete stored.initImage;
  if (!req.mask) delete stored.mask;
  return stored;
}

function infotextOf(req: NormalizedRequest, plan: GenerationPlan, seed: string, modelName: string | undefined): string {
  const { mode, sampler } = plan;
  return formatInfotext({
    prompt: req.prompt,
    negativePrompt: req.negativePrompt,
    params: [
      ['Steps', req.steps],
      ['Sampler', A1111_SAMPLER_NAMES[sampler]],
      ['CFG scale', req.cfgScale],
      ['Seed', seed],
      ['Size', `${plan.width}x${plan.height}`],
      ['Model', modelName],
      ['Denoising strength', mode !== 'txt2img' ? req.strength : undefined],
      ['Mask blur', mode === 'inpaint' ? req.maskBlur : undefined],
      ['Inpaint area', mode === 'inpaint' && req.inpaintOnlyMasked ? 'Only masked' : undefined],
      ['Masked area padding', mode === 'inpaint' && req.inpaintOnlyMasked ? req.inpaintPadding : undefined],
      ['Eta DDIM', sampler === 'ddim' && req.eta > 0 ? req.eta : undefined],
    ],
  });
}

export async function encodeOutput(image: RgbaImage, req: NormalizedRequest, plan: GenerationPlan, seed: bigint, modelName: string | undefined): Promise<Omit<GenerateResult, 'timings' | 'memory'>> {
  const seedStr = seed.toString();
  const stored = storedRequest(req, plan, seedStr, modelName);
  const infotext = infotextOf(req, plan, seedStr, modelName);
  const png = await encodePng(rgbaToRgb(image.data), image.width, image.height, 3, [
    { keyword: INFOTEXT_CHUNK_KEY, text: infotext },
    { keyword: REQUEST_CHUNK_KEY, text: JSON.stringify(stored), international: true },
  ]);
  return { png, width: image.width, height: image.height, seed: seedStr, infotext, request: stored };
}
