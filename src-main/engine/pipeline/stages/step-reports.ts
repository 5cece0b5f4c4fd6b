// Progress events and live previews after each denoising step.
import { performance } from 'node:perf_hooks';
import type { RgbaImage } from '../../image/index.js';
import { throwIfAborted } from '../errors.js';
import type { PreparedInit } from '../init-image.js';
import { decodedToRgba, latentToRgba, scaleRgbaBilinear, type LatentRgbFactors } from '../preview.js';
import { scaleInPlace } from '../tensor.js';
import type { GenerateHooks, PipelineModel, PreviewEvent } from '../types.js';
import type { GenerationPlan } from './check-inputs.js';

export interface StepReportOptions {
  model: PipelineModel;
  plan: GenerationPlan;
  hooks: GenerateHooks;
  previewEvery: number;
  decodePreviewEvery: number;
  previewTable: LatentRgbFactors;
  /** The init image and mask (image-to-image, inpainting): inpainting previews are composited with them. */
  prepared: PreparedInit | undefined;
  /** performance.now() when the request started (for elapsed time and the ETA). */
  requestStart: number;
  image: number;
  batchCount: number;
  totalSteps: number;
}

/** What the previews of one image cost. */
export interface PreviewStats {
  previews: number;
  previewMs: number;
  decodedPreviews: number;
  decodedPreviewMs: number;
}

/** The `afterStep` of one image's denoising loop; `stats` sums preview counts and times. */
export function stepReporter(o: StepReportOptions, stats: PreviewStats): (step: number, x0: () => Float32Array) => Promise<void> {
  const { hooks, plan, image, totalSteps } = o;
  return async (step, x0) => {
    if (hooks.onProgress) {
      const elapsedMs = performance.now() - o.requestStart;
      const done = image * totalSteps + step;
      const total = o.batchCount * totalSteps;
      hooks.onProgress({ image, step, totalSteps, elapsedMs, etaMs: (elapsedMs / done) * (total - done) });
    }
    const onPreview = hooks.onPreview;
    if (!onPreview) return;
    const latentPreview = o.previewEvery > 0 && step % o.previewEvery === 0;
    const decodedPreview = o.decodePreviewEvery > 0 && step % o.decodePreviewEvery === 0 && step < totalSteps;
    if (!latentPreview && !decodedPreview) return;
    const started = performance.now();
    const clean = x0();
    if (latentPreview) {
      const rgba = latentToRgba(clean, plan.latentHeight, plan.latentWidth, o.previewTable);
      const frame = await pictureFrame(o, { width: plan.latentWidth, height: plan.latentHeight, data: rgba });
      stats.previewMs += performance.now() - started;
      stats.previews++;
      onPreview({ image, step, kind: 'latent', ...frame });
    }
    if (decodedPreview) {
      const decodeStart = performance.now();
      throwIfAborted(hooks.signal);
      const latents = scaleInPlace(new Float32Array(clean), 1 / o.model.info.vaeScalingFactor);
      const pixels = await o.model.decodeLatents(latents, 1, plan.latentHeight, plan.latentWidth);
      const rgba = decodedToRgba(pixels, 0, plan.height, plan.width);
      const frame = await pictureFrame(o, { width: plan.width, height: plan.height, data: rgba });
      stats.decodedPreviewMs += performance.now() - decodeStart;
      stats.decodedPreviews++;
      onPreview({ image, step, kind: 'decoded', ...frame });
    }
  };
}

type PreviewFrame = Pick<PreviewEvent, 'width' | 'height' | 'rgba' | 'pictureWidth' | 'pictureHeight'>;

/**
 * A preview of the generated width × height area as a frame of the whole picture. Inpainting: scaled to
 * the generated size and finished like the final image (the init image outside the mask, pasted back
 * into the crop for only-masked), so the frame shows the picture as it will be. Otherwise the generated
 * area is the picture, and the frame stays at its own size (the UI scales it) with no await: a latent
 * preview costs microseconds and must not yield to other work while it is timed.
 */
function pictureFrame(o: StepReportOptions, generated: RgbaImage): PreviewFrame | Promise<PreviewFrame> {
  const { plan, prepared } = o;
  const picture = prepared?.base ?? { width: plan.width, height: plan.height };
  const size = { pictureWidth: picture.width, pictureHeight: picture.height };
  if (plan.mode !== 'inpaint' || !prepared) return { width: generated.width, height: generated.height, rgba: generated.data, ...size };
  const full = generated.width === plan.width && generated.height === plan.height ? generated.data : scaleRgbaBilinear(generated.data, generated.width, generated.height, plan.width, plan.height);
  return prepared.finish(full).then((finished) => ({ width: finished.width, height: finished.height, rgba: finished.data, ...size }));
}
