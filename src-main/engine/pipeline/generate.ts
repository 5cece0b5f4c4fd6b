// The generation pipeline: text-to-image, image-to-image and inpainting on one denoising loop, in the
// stages of diffusers' StableDiffusionPipeline.__call__ (check inputs, encode the prompt, prepare
// latents, denoise, decode), then the output (PNG, infotext, stored request) as a step of its own.
import { performance } from 'node:perf_hooks';
import { TorchGenerator } from '../random/index.js';
import { createScheduler } from '../schedulers/index.js';
import type { Scheduler } from '../schedulers/types.js';
import { encodePromptsSdxl } from './conditioning-sdxl.js';
import { encodePrompts, type TextConditioning } from './conditioning.js';
import { schedulerStep, unetCall, withGuidance, withInpaintBlend, withInpaintConcat, type Denoiser, type Guidance, type SchedulerStep } from './denoiser.js';
import { throwIfAborted } from './errors.js';
import { guidanceScaleEmbedding } from './guidance.js';
import { prepareInit, type PreparedInit } from './init-image.js';
import { availableMemoryBytes, planMemory } from './memory-guard.js';
import { latentRgbFactorsFor, type LatentRgbFactors } from './preview.js';
import { previewFactorsFor } from './preview-factors.js';
import { parseGenerateRequest, resolveRequestSize, resolveSeed, seedForImage } from './request.js';
import { checkInputs, type GenerationPlan } from './stages/check-inputs.js';
import { decodeLatents } from './stages/decode.js';
import { denoise } from './stages/denoise.js';
import { encodeImages, type EncodedImages } from './stages/encode-images.js';
import { prepareLatents, type InitialLatents } from './stages/latents.js';
import { encodeOutput, modelDisplayName } from './stages/output.js';
import { stepReporter, type PreviewStats } from './stages/step-reports.js';
import { prepareTimesteps, type RunTimesteps } from './stages/timesteps.js';
import type { GenerateHooks, GenerateRequest, GenerateResult, MemoryReport, NormalizedRequest, ParsedRequest, PipelineModel } from './types.js';
import { vaeTileSizes, type VaeTiles } from './vae-tiling.js';

/**
 * Runs one generation request on a model: validates it (generateRequestSchema), then runGeneration.
 * Rejects with PipelineError('invalid-request') for a request that does not validate.
 */
export async function generate(model: PipelineModel, request: GenerateRequest, hooks: GenerateHooks = {}): Promise<GenerateResult[]> {
  return runGeneration(model, parseGenerateRequest(request), hooks);
}

/** What every image of a request shares. */
interface RequestContext {
  model: PipelineModel;
  req: NormalizedRequest;
  plan: GenerationPlan;
  hooks: GenerateHooks;
  prepared: PreparedInit | undefined;
  text: TextConditioning;
  guidance: Guidance;
  images: EncodedImages;
  /** Tile sizes when the VAE runs tiled, else null. */
  vaeTiles: VaeTiles | null;
  memory: MemoryReport;
  previewTable: LatentRgbFactors;
  modelName: string | undefined;
  requestStart: number;
  encodePromptMs: number;
  prepareImageMs: number;
}

/**
 * Runs an already validated request (the host and CLI validate; the worker calls this): encodes the
 * prompt once, then makes `batchCount` images with seeds seed, seed+1, … (each with its own
 * TorchGenerator), handing each to `hooks.onImage` when it is done. Rejects with name 'AbortError' /
 * code 'cancelled' when `hooks.signal` aborts (checked before every UNet call and before the VAE),
 * and with PipelineError otherwise.
 */
export async function runGeneration(model: PipelineModel, request: ParsedRequest, hooks: GenerateHooks = {}): Promise<GenerateResult[]> {
  const requestStart = performance.now();
  const { signal } = hooks;
  const req = resolveRequestSize(request, model.info.nativeSize);
  throwIfAborted(signal);

  // 1. Check inputs against what the model can do, and fit the job into the memory the process can have.
  const checked = checkInputs(model.info, req);
  const encodes = checked.mode === 'txt2img' ? Number(checked.inpaintUnet) : 1 + Number(checked.inpaintUnet);
  const cfg = checked.guidance === 'cfg-batch' ? 'batch' : checked.guidance === 'cfg-sequential' ? 'sequential' : 'none';
  const memoryPlan = planMemory(model.info.memory, { width: checked.width, height: checked.height, cfg, encodes }, hooks.memoryLimitBytes ?? availableMemoryBytes());
  const plan = memoryPlan.sequentialCfg ? { ...checked, guidance: 'cfg-sequential' as const } : checked;
  const vaeTiles = memoryPlan.vaeTiling ? vaeTileSizes((model.info.memory ?? { vaeSampleSize: 512 }).vaeSampleSize) : null;
  const memory: MemoryReport = {
    vaeTiling: memoryPlan.vaeTiling,
    sequentialCfg: memoryPlan.sequentialCfg,
    estimatedPeakBytes: memoryPlan.peakBytes,
    availableBytes: memoryPlan.availableBytes,
  };

  // 2. Decode and fit the init image and mask (image-to-image, inpainting).
  const prepareStart = performance.now();
  const prepared = await prepareInit(req);
  let prepareImageMs = performance.now() - prepareStart;
  throwIfAborted(signal);

  // 3. Encode the prompt, and the negative prompt when classifier-free guidance needs it.
  const promptStart = performance.now();
  const text = model.info.sdxl
    ? await encodePromptsSdxl(model, req.prompt, req.negativePrompt, cfg !== 'none', { width: plan.width, height: plan.height })
    : await encodePrompts(model, req.prompt, req.negativePrompt, cfg !== 'none');
  const encodePromptMs = performance.now() - promptStart;
  throwIfAborted(signal);

  // 4. Encode the init image / masked image with the VAE (once; each image samples it with its own generator).
  const encodeStart = performance.now();
  const images = await encodeImages(model, plan, prepared, req.strength, signal, vaeTiles);
  prepareImageMs += performance.now() - encodeStart;

  // Latent previews use factors fitted to this model's VAE decoder: once per model (cached beside it),
  // so a model's first previewed request pays for the fit, here before its first step.
  const previews = hooks.onPreview !== undefined && req.previewEvery > 0;
  const previewTable = previews ? await previewFactorsFor(model) : latentRgbFactorsFor(model.info.vaeScalingFactor);
  throwIfAborted(signal);

  const ctx: RequestContext = {
    model,
    req,
    plan,
    hooks,
    prepared,
    text,
    guidance: guidanceOf(plan, model, req.cfgScale),
    images,
    vaeTiles,
    memory,
    previewTable,
    modelName: modelDisplayName(model, req, hooks),
    requestStart,
    encodePromptMs,
    prepareImageMs,
  };
  const baseSeed = resolveSeed(req.seed);
  const results: GenerateResult[] = [];
  for (let index = 0; index < req.batchCount; index++) {
    throwIfAborted(signal);
    const result = await generateImage(ctx, index, seedForImage(baseSeed, index));
    results.push(result);
    await hooks.onImage?.(result, index);
  }
  return results;
}

function guidanceOf(plan: GenerationPlan, model: PipelineModel, cfgScale: number): Guidance {
  switch (plan.guidance) {
    case 'none':
      return { kind: 'none' };
    case 'embedded':
      // diffusers LatentConsistencyModelPipeline: w = guidance_scale − 1
      return { kind: 'embedded', embedding: guidanceScaleEmbedding(cfgScale - 1, model.info.timestepCondDim!) };
    default:
      return { kind: 'cfg', scale: cfgScale, batched: plan.guidance === 'cfg-batch' };
  }
}

/** Stages 5–8 for one image: timesteps and latents, the denoising loop, the VAE decode, the PNG. */
async function generateImage(ctx: RequestContext, index: number, seed: bigint): Promise<GenerateResult> {
  const { model, req, plan, hooks, prepared } = ctx;
  const { signal } = hooks;
  const imageStart = performance.now();

  // 5. Timesteps and initial latents.
  const generator = new TorchGenerator(seed);
  const scheduler = createScheduler(plan.sampler, model.info.schedulerConfig);
  const run = prepareTimesteps(scheduler, plan, req.steps, req.strength);
  const steps = run.timesteps.length;
  const initial = steps > 0 ? prepareLatents(plan, ctx.images, scheduler, generator, run.beginIndex, req.strength, model.info.vaeScalingFactor) : undefined;
  const prepareLatentsMs = performance.now() - imageStart;

  let image = prepared?.base; // no step at all (an init image at a very low strength): the init image itself
  const previews: PreviewStats = { previews: 0, previewMs: 0, decodedPreviews: 0, decodedPreviewMs: 0 };
  let unetCalls = 0;
  let denoiseMs = 0;
  let decodeMs = 0;
  if (initial) {
    // 6. Denoise: the UNet wrapped by guidance and inpainting, driven by the scheduler.
    const denoiser = denoiserFor(ctx, initial, () => unetCalls++);
    const step = schedulerStepFor(ctx, scheduler, generator, initial, run);
    const afterStep = stepReporter(
      {
        model,
        plan,
        hooks,
        previewEvery: req.previewEvery,
        decodePreviewEvery: req.decodePreviewEvery,
        previewTable: ctx.previewTable,
        prepared,
        requestStart: ctx.requestStart,
        image: index,
        batchCount: req.batchCount,
        totalSteps: steps,
      },
      previews,
    );
    const denoised = await denoise(initial.latents, { scheduler, timesteps: run.timesteps, denoiser, step, signal, afterStep });
    denoiseMs = denoised.denoiseMs;

    // 7. Decode the latents (and composite with the init image).
    const decodeStart = performance.now();
    image = await decodeLatents(model, plan, denoised.latents, prepared, steps, signal, ctx.vaeTiles);
    decodeMs = performance.now() - decodeStart;
  }
  throwIfAborted(signal);

  // 8. Output: PNG with infotext and the stored request.
  const outputStart = performance.now();
  const output = await encodeOutput(image!, req, plan, seed, ctx.modelName);
  const done = performance.now();
  return {
    ...output,
    memory: ctx.memory,
    timings: {
      totalMs: done - ctx.requestStart,
      imageMs: done - imageStart,
      encodePromptMs: ctx.encodePromptMs,
      prepareImageMs: ctx.prepareImageMs,
      prepareLatentsMs,
      steps,
      denoiseMs,
      stepMs: steps ? denoiseMs / steps : 0,
      unetCalls,
      previews: previews.previews,
      previewMs: previews.previews ? previews.previewMs / previews.previews : 0,
      decodedPreviews: previews.decodedPreviews,
      decodedPreviewMs: previews.decodedPreviews ? previews.decodedPreviewMs / previews.decodedPreviews : 0,
      decodeMs,
      outputMs: done - outputStart,
    },
  };
}

/** The UNet → guidance → (9-channel) inpaint concat chain for one image. */
function denoiserFor(ctx: RequestContext, initial: InitialLatents, onUnetCall: () => void): Denoiser {
  const { plan, images } = ctx;
  const unet = unetCall(ctx.model, {
    latentHeight: plan.latentHeight,
    latentWidth: plan.latentWidth,
    sequenceLength: ctx.text.sequenceLength,
    signal: ctx.hooks.signal,
    onCall: onUnetCall,
  });
  const guided = withGuidance(unet, ctx.text, ctx.guidance);
  return plan.inpaintUnet ? withInpaintConcat(guided, images.latentMask!, initial.maskedImageLatents!) : guided;
}

/** The scheduler step for one image, with the latent blend of inpainting on a 4-channel UNet. */
function schedulerStepFor(ctx: RequestContext, scheduler: Scheduler, generator: TorchGenerator, initial: InitialLatents, run: RunTimesteps): SchedulerStep {
  const step = schedulerStep(scheduler, { generator, eta: ctx.req.eta });
  if (ctx.plan.mode !== 'inpaint' || ctx.plan.inpaintUnet) return step;
  return withInpaintBlend(step, scheduler, {
    imageLatents: initial.imageLatents!,
    noise: initial.noise,
    latentMask: ctx.images.latentMask!,
    beginIndex: run.beginIndex,
    steps: run.timesteps.length,
  });
}
