// Stage 4b: one image's initial latents, drawing from its generator in diffusers' order.
import type { TorchGenerator } from '../../random/index.js';
import type { Scheduler } from '../../schedulers/types.js';
import { PipelineError } from '../errors.js';
import { f32, scaleInPlace } from '../tensor.js';
import type { EncodedImageLatent } from '../types.js';
import type { GenerationPlan } from './check-inputs.js';
import type { EncodedImages } from './encode-images.js';

export interface InitialLatents {
  /** [1, 4, h, w]: where the denoising starts. */
  latents: Float32Array;
  /** [1, 4, h, w]: the noise drawn for this image (the legacy inpaint blend re-noises with it). */
  noise: Float32Array;
  /** [1, 4, h, w]: the init image's latents, when it was encoded. */
  imageLatents?: Float32Array;
  /** [1, 4, h, w]: the masked image's latents (9-channel UNet). */
  maskedImageLatents?: Float32Array;
}

/** diffusers DiagonalGaussianDistribution.sample() (or the ready sample), times the VAE scaling factor. */
function latentFromEncoded(enc: EncodedImageLatent, shape: [number, number, number, number], generator: TorchGenerator, scaling: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  let x: Float32Array;
  if (enc.kind === 'parameters') {
    // [1, 8, h, w] = concat(mean, logvar)
    if (enc.data.length !== 2 * n) throw new PipelineError('model-output', `VAE encoder returned ${enc.data.length} values, expected ${2 * n}`);
    const eps = generator.randn(shape);
    x = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const logvar = Math.min(20, Math.max(-30, enc.data[n + i]!));
      const std = f32(Math.exp(f32(0.5 * logvar)));
      x[i] = f32(enc.data[i]! + f32(std * eps[i]!));
    }
  } else {
    if (enc.data.length !== n) throw new PipelineError('model-output', `VAE encoder returned ${enc.data.length} values, expected ${n}`);
    x = new Float32Array(enc.data);
  }
  return scaleInPlace(x, scaling);
}

/**
 * Text-to-image: noise × initNoiseSigma. With an init image: its latents noised to the first step, or pure
 * noise for inpainting at strength 1 (diffusers' is_strength_max). Generator order: image latents, noise,
 * masked-image latents.
 */
export function prepareLatents(
  plan: GenerationPlan,
  images: EncodedImages,
  scheduler: Scheduler,
  generator: TorchGenerator,
  beginIndex: number,
  strength: number,
  vaeScalingFactor: number,
): InitialLatents {
  const shape: [number, number, number, number] = [1, 4, plan.latentHeight, plan.latentWidth];
  const fromNoise = plan.mode === 'txt2img' || (plan.mode === 'inpaint' && strength === 1);
  const imageLatents = plan.mode !== 'txt2img' && images.init ? latentFromEncoded(images.init, shape, generator, vaeScalingFactor) : undefined;
  const noise = generator.randn(shape);
  const latents = fromNoise ? scaleInPlace(new Float32Array(noise), scheduler.initNoiseSigma) : scheduler.addNoise(imageLatents!, noise, beginIndex);
  const maskedImageLatents = images.maskedImage ? latentFromEncoded(images.maskedImage, shape, generator, vaeScalingFactor) : undefined;
  return { latents, noise, ...(imageLatents ? { imageLatents } : {}), ...(maskedImageLatents ? { maskedImageLatents } : {}) };
}
