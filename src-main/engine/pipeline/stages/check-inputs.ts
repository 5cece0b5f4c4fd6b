// Stage 1: what the request asks for, checked against what the model can do, settled into a plan.
import { createScheduler, defaultSchedulerFor } from '../../schedulers/index.js';
import type { SchedulerName } from '../../schedulers/types.js';
import { PipelineError } from '../errors.js';
import type { GenerationMode, NormalizedRequest, PipelineModelInfo } from '../types.js';

/**
 * How the prompt steers the UNet:
 * - 'none': one conditional pass (cfg ≤ 1, e.g. Turbo);
 * - 'cfg-batch' / 'cfg-sequential': classifier-free guidance as one batch-2 call or two batch-1 calls;
 * - 'embedded': LCM, the guidance scale goes in as `timestep_cond` and one pass suffices.
 */
export type GuidanceKind = 'none' | 'cfg-batch' | 'cfg-sequential' | 'embedded';

/** Everything about a request that does not change from one image of the batch to the next. */
export interface GenerationPlan {
  mode: GenerationMode;
  sampler: SchedulerName;
  guidance: GuidanceKind;
  /** A 9-channel inpainting UNet: its input is [latents, mask, masked-image latents] on the channel axis. */
  inpaintUnet: boolean;
  /** Image size in pixels; the latents are [1, 4, height/8, width/8]. */
  width: number;
  height: number;
  latentHeight: number;
  latentWidth: number;
}

export function modeOf(req: Pick<NormalizedRequest, 'initImage' | 'mask'>): GenerationMode {
  if (!req.initImage) return 'txt2img';
  return req.mask ? 'inpaint' : 'img2img';
}

function guidanceKind(info: PipelineModelInfo, req: NormalizedRequest): GuidanceKind {
  if (info.timestepCondDim != null && info.timestepCondDim > 0) return 'embedded';
  if (req.cfgScale <= 1) return 'none';
  const batchOfTwo = info.unetMaxBatch === null || info.unetMaxBatch >= 2;
  return req.cfgMode === 'batch' && batchOfTwo ? 'cfg-batch' : 'cfg-sequential';
}

/** Throws PipelineError ('unknown-sampler' / 'unsupported') for what this model cannot run. */
export function checkInputs(info: PipelineModelInfo, req: NormalizedRequest): GenerationPlan {
  const mode = modeOf(req);
  const sampler: SchedulerName = req.sampler ?? defaultSchedulerFor(info.schedulerConfig, 'pndm');
  try {
    createScheduler(sampler, info.schedulerConfig);
  } catch (err) {
    throw new PipelineError('unknown-sampler', `Sampler "${sampler}" is not available: ${(err as Error).message}`, { cause: err });
  }

  const family = (info as { family?: string }).family;
  if (family === 'sd3') {
    throw new PipelineError('unsupported', 'SD3 models are not supported yet (SD 1.x / 2.x, SDXL, inpainting, LCM and Turbo are).');
  }
  if (family === 'sdxl' && !info.sdxl) {
    throw new PipelineError('unsupported', 'This SDXL model was opened without its second text encoder (text_encoder_2/).');
  }
  const inpaintUnet = info.unetInChannels === 9;
  if (info.unetInChannels !== 4 && !inpaintUnet) {
    throw new PipelineError('unsupported', `UNets with ${info.unetInChannels} input channels are not supported (4 or 9 expected).`);
  }
  if ((mode !== 'txt2img' || inpaintUnet) && !info.vaeEncoder) {
    throw new PipelineError(
      'unsupported',
      inpaintUnet ? 'This inpainting model has no VAE encoder (vae_encoder/), which it needs.' : 'This model has no VAE encoder (vae_encoder/): img2img and inpainting need one.',
    );
  }

  return {
    mode,
    sampler,
    guidance: guidanceKind(info, req),
    inpaintUnet,
    width: req.width,
    height: req.height,
    latentHeight: req.height / 8,
    latentWidth: req.width / 8,
  };
}
