// Progress events and live previews after each denoising step.
import { performance } from 'node:perf_hooks';
import { throwIfAborted } from '../errors.js';
import { decodedToRgba, latentToRgba, type LatentRgbFactors } from '../preview.js';
import { scaleInPlace } from '../tensor.js';
import type { GenerateHooks, PipelineModel } from '../types.js';
import type { GenerationPlan } from './check-inputs.js';

export interface StepReportOptions {
  model: PipelineModel;
  plan: GenerationPlan;
  hooks: GenerateHooks;
  previewEvery: number;
  decodePreviewEvery: number;
  previewTable: LatentRgbFactors;
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
      stats.previewMs += performance.now() - started;
      stats.previews++;
      onPreview({ image, step, kind: 'latent', width: plan.latentWidth, height: plan.latentHeight, rgba });
    }
    if (decodedPreview) {
      const decodeStart = performance.now();
      throwIfAborted(hooks.signal);
      const latents = scaleInPlace(new Float32Array(clean), 1 / o.model.info.vaeScalingFactor);
      const pixels = await o.model.decodeLatents(latents, 1, plan.latentHeight, plan.latentWidth);
      const rgba = decodedToRgba(pixels, 0, plan.height, plan.width);
      stats.decodedPreviewMs += performance.now() - decodeStart;
      stats.decodedPreviews++;
      onPreview({ image, step, kind: 'decoded', width: plan.width, height: plan.height, rgba });
    }
  };
}
