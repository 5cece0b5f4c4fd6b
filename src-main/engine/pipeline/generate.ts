// The generation pipeline: text-to-image, image-to-image and inpainting on one denoising loop.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodePng, formatInfotext, A1111_SAMPLER_NAMES, REQUEST_CHUNK_KEY, INFOTEXT_CHUNK_KEY } from '../image/index.js';
import { TorchGenerator } from '../random/index.js';
import { createScheduler, defaultSchedulerFor, img2imgTimesteps } from '../schedulers/index.js';
import { getNoiseSchedule } from '../schedulers/common.js';
import type { Scheduler, SchedulerName } from '../schedulers/types.js';
import { encodePrompts, type TextConditioning } from './conditioning.js';
import { GenerationAbortError, PipelineError, throwIfAborted } from './errors.js';
import { combineGuidance, guidanceScaleEmbedding } from './guidance.js';
import { latentMask, prepareInit, rgbaToTensor, type PreparedInit } from './init-image.js';
import { decodedToRgba, latentRgbFactorsFor, latentToRgba } from './preview.js';
import { parseGenerateRequest, resolveRequestSize, resolveSeed, seedForImage, type ImageInput, type NormalizedRequest, type ParsedRequest } from './request.js';
import type { EncodedImageLatent, GenerateHooks, GenerateResult, GenerationMode, PipelineModel, StoredRequest } from './types.js';

/** Timings of one generate() call (also attached to every result as `timings`). */
export interface GenerateTimings {
  totalMs: number;
  /** Denoising steps run (all images). */
  steps: number;
  /** Mean wall time of one denoising step (UNet call(s) + scheduler). */
  stepMs: number;
  /** Mean time of one latent preview (latent → RGB), 0 if none. */
  previewMs: number;
  previews: number;
  /** Total UNet calls. */
  unetCalls: number;
}

const f = Math.fround;

function sha(image: ImageInput): { sha256: string; bytes: number } {
  const bytes = image instanceof Uint8Array ? image : image.data;
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

function modeOf(req: NormalizedRequest): GenerationMode {
  if (!req.initImage) return 'txt2img';
  return req.mask ? 'inpaint' : 'img2img';
}

function assertFinite(x: Float32Array, what: string, step: number): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v - v !== 0) {
      throw new PipelineError(
        'non-finite',
        `The ${what} became ${Number.isNaN(v) ? 'NaN' : 'infinite'} at step ${step}: the guidance scale may be too high, or the model (fp16?) overflowed. Nothing was written.`,
      );
    }
  }
}

function scaleInPlace(x: Float32Array, s: number): Float32Array {
  const g = f(s);
  for (let i = 0; i < x.length; i++) x[i] = f(x[i]! * g);
  return x;
}

/** diffusers DiagonalGaussianDistribution.sample() (or the ready sample), times the VAE scaling factor. */
function latentFromEncoded(enc: EncodedImageLatent, n: number, h: number, w: number, generator: TorchGenerator, scaling: number): Float32Array {
  let x: Float32Array;
  if (enc.kind === 'parameters') {
    if (enc.data.length !== 2 * n) throw new PipelineError('model-output', `VAE encoder returned ${enc.data.length} values, expected ${2 * n}`);
    const eps = generator.randn([1, 4, h, w]);
    x = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const logvar = Math.min(20, Math.max(-30, enc.data[n + i]!));
      const std = f(Math.exp(f(0.5 * logvar)));
      x[i] = f(enc.data[i]! + f(std * eps[i]!));
    }
  } else {
    if (enc.data.length !== n) throw new PipelineError('model-output', `VAE encoder returned ${enc.data.length} values, expected ${n}`);
    x = new Float32Array(enc.data);
  }
  return scaleInPlace(x, scaling);
}

/** x0 from the model output when the scheduler does not report it (PNDM): for previews only. */
function estimateX0(scheduler: Scheduler, sample: Float32Array, output: Float32Array, t: number): Float32Array {
  const sched = getNoiseSchedule(scheduler.config);
  const T = sched.numTrainTimesteps;
  const tc = Math.min(T - 1, Math.max(0, t));
  const lo = Math.floor(tc);
  const hi = Math.min(T - 1, lo + 1);
  const sigma = sched.sigmaTable[lo]! + (sched.sigmaTable[hi]! - sched.sigmaTable[lo]!) * (tc - lo);
  const pred = String(scheduler.config['prediction_type'] ?? 'epsilon');
  const x0 = new Float32Array(sample.length);
  if (scheduler.sigmas) {
    // σ-space sample: x = x0 + σ·ε
    const c = 1 / Math.sqrt(sigma * sigma + 1);
    for (let i = 0; i < x0.length; i++) {
      x0[i] = pred === 'v_prediction' ? output[i]! * (-sigma * c) + sample[i]! * c * c : pred === 'sample' ? output[i]! : sample[i]! - sigma * output[i]!;
    }
  } else {
    const ac = 1 / (sigma * sigma + 1);
    const a = Math.sqrt(ac);
    const b = Math.sqrt(1 - ac);
    for (let i = 0; i < x0.length; i++) {
      x0[i] = pred === 'v_prediction' ? a * sample[i]! - b * output[i]! : pred === 'sample' ? output[i]! : (sample[i]! - b * output[i]!) / a;
    }
  }
  return x0;
}

function concatChannels(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
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

function modelDisplayName(model: PipelineModel, req: NormalizedRequest, hooks: GenerateHooks): string | undefined {
  if (hooks.modelName) return hooks.modelName;
  if (model.info.name) return model.info.name;
  const dir = req.model ?? model.info.dir;
  return dir ? path.basename(path.resolve(dir)) : undefined;
}

/**
 * Runs one generation request on a model. Validates the request (generateRequestSchema), encodes
 * the prompt once, then makes `batchCount` images with seeds seed, seed+1, … (each with its own
 * TorchGenerator). Rejects with name 'AbortError' / code 'cancelled' when `hooks.signal` aborts
 * (checked before every UNet call and before the VAE), and with PipelineError otherwise.
 */
export async function generate(model: PipelineModel, request: unknown, hooks: GenerateHooks = {}): Promise<GenerateResult[]> {
  return runGeneration(model, parseGenerateRequest(request), hooks);
}

/** generate() for a request already checked where it entered (the studio host, the CLI): no second validation. */
export async function runGeneration(model: PipelineModel, request: ParsedRequest, hooks: GenerateHooks = {}): Promise<GenerateResult[]> {
  const t0 = performance.now();
  const info = model.info;
  const req = resolveRequestSize(request, info.nativeSize);
  const { signal } = hooks;
  throwIfAborted(signal);
  const mode = modeOf(req);

  const samplerName: SchedulerName = req.sampler ?? defaultSchedulerFor(info.schedulerConfig, 'pndm');
  try {
    createScheduler(samplerName, info.schedulerConfig);
  } catch (err) {
    throw new PipelineError('unknown-sampler', `Sampler "${samplerName}" is not available: ${(err as Error).message}`, { cause: err });
  }

  const family = (info as { family?: string }).family;
  if (family === 'sdxl' || family === 'sd3') {
    throw new PipelineError('unsupported', `${family.toUpperCase()} models are not supported yet (SD 1.x / 2.x, inpainting, LCM and Turbo are).`);
  }
  const nine = info.unetInChannels === 9;
  if (info.unetInChannels !== 4 && !nine) {
    throw new PipelineError('unsupported', `UNets with ${info.unetInChannels} input channels are not supported (4 or 9 expected).`);
  }
  const needsEncoder = mode !== 'txt2img' || nine;
  if (needsEncoder && !info.vaeEncoder) {
    throw new PipelineError(
      'unsupported',
      nine ? 'This inpainting model has no VAE encoder (vae_encoder/), which it needs.' : 'This model has no VAE encoder (vae_encoder/): img2img and inpainting need one.',
    );
  }

  const W = req.width;
  const H = req.height;
  const h = H / 8;
  const w = W / 8;
  const n = 4 * h * w;
  const scaling = info.vaeScalingFactor;
  const lcm = info.timestepCondDim != null && info.timestepCondDim > 0;
  const doCfg = !lcm && req.cfgScale > 1;
  const batchCall = req.cfgMode === 'batch' && (info.unetMaxBatch === null || info.unetMaxBatch >= 2);
  const previewTable = latentRgbFactorsFor(scaling);
  const baseSeed = resolveSeed(req.seed);
  const name = modelDisplayName(model, req, hooks);

  const prepared: PreparedInit | undefined = await prepareInit(req);
  throwIfAborted(signal);

  // Text conditioning: once per request.
  const text: TextConditioning = await encodePrompts(model, req.prompt, req.negativePrompt, doCfg);
  throwIfAborted(signal);
  const timestepCond = lcm ? guidanceScaleEmbedding(req.cfgScale - 1, info.timestepCondDim!) : undefined;
  const ehsCfg = doCfg ? concatChannels([text.uncond!, text.cond]) : undefined;

  // VAE encodes: once per request (sampling the latent distribution happens per image, with its generator).
  let initEncoded: EncodedImageLatent | undefined;
  let maskedEncoded: EncodedImageLatent | undefined;
  let maskLat: Float32Array | undefined;
  const encode = async (pixels: Float32Array): Promise<EncodedImageLatent> => {
    throwIfAborted(signal);
    const enc = await model.encodeImage(pixels, H, W);
    if (enc.kind !== 'sample' && enc.kind !== 'parameters') throw new PipelineError('model-output', `unknown VAE encoder output kind ${String(enc.kind)}`);
    return enc;
  };
  if (prepared && (mode === 'img2img' || !nine || req.strength < 1)) initEncoded = await encode(rgbaToTensor(prepared.image));
  if (nine) {
    const maskImg = prepared?.mask ?? { width: W, height: H, data: new Uint8Array(W * H).fill(255) };
    maskLat = latentMask(maskImg, h, w);
    const src = prepared?.image ?? { width: W, height: H, data: new Uint8Array(W * H * 4) };
    maskedEncoded = await encode(rgbaToTensor(src, maskImg));
  } else if (mode === 'inpaint') {
    maskLat = latentMask(prepared!.mask!, h, w);
  }

  const timings: GenerateTimings = { totalMs: 0, steps: 0, stepMs: 0, previewMs: 0, previews: 0, unetCalls: 0 };
  let stepTimeTotal = 0;
  let previewTimeTotal = 0;
  const results: GenerateResult[] = [];
  let plannedStepsPerImage = 0;

  const predict = async (unetIn: Float32Array, batch: number, ehs: Float32Array): Promise<Float32Array> => {
    throwIfAborted(signal);
    timings.unetCalls++;
    let tc = timestepCond;
    if (tc && batch > 1) tc = concatChannels(Array.from({ length: batch }, () => timestepCond!));
    const out = await model.predictNoise({
      sample: unetIn,
      batch,
      latentHeight: h,
      latentWidth: w,
      timestep: currentT,
      encoderHiddenStates: ehs,
      sequenceLength: text.sequenceLength,
      ...(tc ? { timestepCond: tc } : {}),
    });
    if (out.length !== batch * n) throw new PipelineError('model-output', `UNet returned ${out.length} values, expected ${batch * n}`);
    return out;
  };
  let currentT = 0;

  for (let img = 0; img < req.batchCount; img++) {
    throwIfAborted(signal);
    const seed = seedForImage(baseSeed, img);
    const generator = new TorchGenerator(seed);
    const scheduler = createScheduler(samplerName, info.schedulerConfig);

    let timesteps: number[];
    let beginIndex = 0;
    try {
      if (mode === 'txt2img') {
        scheduler.setTimesteps(req.steps);
        timesteps = [...scheduler.timesteps];
      } else {
        ({ beginIndex, timesteps } = img2imgTimesteps(scheduler, req.steps, req.strength));
      }
    } catch (err) {
      const how = mode === 'txt2img' ? `${req.steps} steps` : `${req.steps} steps at strength ${req.strength}`;
      throw new PipelineError('invalid-request', `Sampler "${samplerName}" cannot run ${how}: ${(err as Error).message}`, { cause: err });
    }
    plannedStepsPerImage = timesteps.length;

    let finalRgba: { width: number; height: number; data: Uint8Array };
    if (timesteps.length === 0) {
      // Strength so low that no step runs: the init image, pixel for pixel.
      finalRgba = prepared!.base;
    } else {
      // Initial latents, in diffusers' generator order.
      let latents: Float32Array;
      let imageLatents: Float32Array | undefined;
      let noise: Float32Array;
      const strengthMax = mode === 'inpaint' && req.strength === 1;
      if (mode === 'txt2img') {
        noise = generator.randn([1, 4, h, w]);
        latents = scaleInPlace(new Float32Array(noise), scheduler.initNoiseSigma);
      } else {
        if (initEncoded) imageLatents = latentFromEncoded(initEncoded, n, h, w, generator, scaling);
        noise = generator.randn([1, 4, h, w]);
        latents = strengthMax ? scaleInPlace(new Float32Array(noise), scheduler.initNoiseSigma) : scheduler.addNoise(imageLatents!, noise, beginIndex);
      }
      const maskedLatents = maskedEncoded ? latentFromEncoded(maskedEncoded, n, h, w, generator, scaling) : undefined;
      const legacyBlend = mode === 'inpaint' && !nine;

      for (let i = 0; i < timesteps.length; i++) {
        const ts = performance.now();
        const t = timesteps[i]!;
        currentT = t;
        throwIfAborted(signal);
        const scaled = scheduler.scaleModelInput(latents, t);
        const unetIn = nine ? concatChannels([scaled, maskLat!, maskedLatents!]) : scaled;
        let guided: Float32Array;
        if (doCfg) {
          let uncond: Float32Array;
          let cond: Float32Array;
          if (batchCall) {
            const both = await predict(concatChannels([unetIn, unetIn]), 2, ehsCfg!);
            uncond = both.subarray(0, n);
            cond = both.subarray(n, 2 * n);
          } else {
            uncond = await predict(unetIn, 1, text.uncond!);
            cond = await predict(unetIn, 1, text.cond);
          }
          guided = combineGuidance(uncond, cond, req.cfgScale);
        } else {
          guided = await predict(unetIn, 1, text.cond);
        }
        const stepOut = scheduler.step(guided, t, latents, { generator, eta: req.eta });
        const before = latents;
        latents = stepOut.prevSample;
        if (legacyBlend) {
          // diffusers StableDiffusionInpaintPipeline (4-channel UNet): known latents noised to the next timestep.
          const proper = i < timesteps.length - 1 ? scheduler.addNoise(imageLatents!, noise, beginIndex + i + 1) : imageLatents!;
          const blended = new Float32Array(n);
          const hw = h * w;
          for (let k = 0; k < n; k++) {
            const m = maskLat![k % hw]!;
            blended[k] = f(f(f(1 - m) * proper[k]!) + f(m * latents[k]!));
          }
          latents = blended;
        }
        assertFinite(latents, 'latents', i + 1);
        stepTimeTotal += performance.now() - ts;
        timings.steps++;

        const step = i + 1;
        if (hooks.onProgress) {
          const elapsedMs = performance.now() - t0;
          const done = img * timesteps.length + step;
          const total = req.batchCount * timesteps.length;
          hooks.onProgress({ image: img, step, totalSteps: timesteps.length, elapsedMs, etaMs: (elapsedMs / done) * (total - done) });
        }
        const wantLatentPreview = hooks.onPreview && req.previewEvery > 0 && step % req.previewEvery === 0;
        const wantDecoded = hooks.onPreview && req.decodePreviewEvery > 0 && step % req.decodePreviewEvery === 0 && step < timesteps.length;
        if (wantLatentPreview || wantDecoded) {
          const tp = performance.now();
          const x0 = stepOut.predOriginalSample ?? estimateX0(scheduler, before, guided, t);
          if (wantLatentPreview) {
            const rgba = latentToRgba(x0, h, w, previewTable);
            previewTimeTotal += performance.now() - tp;
            timings.previews++;
            hooks.onPreview!({ image: img, step, kind: 'latent', width: w, height: h, rgba });
          }
          if (wantDecoded) {
            throwIfAborted(signal);
            const dec = await model.decodeLatents(scaleInPlace(new Float32Array(x0), 1 / scaling), 1, h, w);
            hooks.onPreview!({ image: img, step, kind: 'decoded', width: W, height: H, rgba: decodedToRgba(dec, 0, H, W) });
          }
        }
        if (signal?.aborted) throw new GenerationAbortError();
      }

      throwIfAborted(signal);
      const decoded = await model.decodeLatents(scaleInPlace(new Float32Array(latents), 1 / scaling), 1, h, w);
      if (decoded.length !== 3 * H * W) throw new PipelineError('model-output', `VAE decoder returned ${decoded.length} values, expected ${3 * H * W}`);
      assertFinite(decoded, 'decoded image', timesteps.length);
      const rgba = decodedToRgba(decoded, 0, H, W);
      finalRgba = prepared ? await prepared.finish(rgba) : { width: W, height: H, data: rgba };
    }
    throwIfAborted(signal);

    const seedStr = seed.toString();
    const stored: StoredRequest = {
      ...req,
      ...(req.initImage ? { initImage: sha(req.initImage) } : {}),
      ...(req.mask ? { mask: sha(req.mask) } : {}),
      ...(name !== undefined ? { model: name } : {}),
      sampler: samplerName,
      seed: seedStr,
      batchCount: 1,
    } as StoredRequest;
    if (!req.initImage) delete (stored as Partial<StoredRequest>).initImage;
    if (!req.mask) delete (stored as Partial<StoredRequest>).mask;
    const infotext = formatInfotext({
      prompt: req.prompt,
      negativePrompt: req.negativePrompt,
      params: [
        ['Steps', req.steps],
        ['Sampler', A1111_SAMPLER_NAMES[samplerName]],
        ['CFG scale', req.cfgScale],
        ['Seed', seedStr],
        ['Size', `${W}x${H}`],
        ['Model', name],
        ['Denoising strength', mode !== 'txt2img' ? req.strength : undefined],
        ['Mask blur', mode === 'inpaint' ? req.maskBlur : undefined],
        ['Inpaint area', mode === 'inpaint' && req.inpaintOnlyMasked ? 'Only masked' : undefined],
        ['Masked area padding', mode === 'inpaint' && req.inpaintOnlyMasked ? req.inpaintPadding : undefined],
        ['Eta DDIM', samplerName === 'ddim' && req.eta > 0 ? req.eta : undefined],
      ],
    });
    const png = await encodePng(rgbaToRgb(finalRgba.data), finalRgba.width, finalRgba.height, 3, [
      { keyword: INFOTEXT_CHUNK_KEY, text: infotext },
      { keyword: REQUEST_CHUNK_KEY, text: JSON.stringify(stored), international: true },
    ]);
    const result: GenerateResult = { png, width: finalRgba.width, height: finalRgba.height, seed: seedStr, infotext, request: stored };
    results.push(result);
    hooks.onImage?.(result, img);
  }

  timings.totalMs = performance.now() - t0;
  timings.stepMs = timings.steps ? stepTimeTotal / timings.steps : 0;
  timings.previewMs = timings.previews ? previewTimeTotal / timings.previews : 0;
  void plannedStepsPerImage;
  lastTimings = timings;
  return results;
}

let lastTimings: GenerateTimings | undefined;

/** Timings of the most recent generate() call in this thread (for benchmarks and tests). */
export function lastGenerateTimings(): GenerateTimings | undefined {
  return lastTimings;
}
