// Stage 6: latents → pixels through the VAE decoder (tiled when the memory plan says so), then the init
// image composite / paste-back.
import { PipelineError, throwIfAborted } from '../errors.js';
import type { PreparedInit } from '../init-image.js';
import { decodedToRgba } from '../preview.js';
import { assertFinite, scaleInPlace } from '../tensor.js';
import type { PipelineModel } from '../types.js';
import { needsTiling, tiledDecode, type VaeTiles } from '../vae-tiling.js';
import type { RgbaImage } from '../../image/index.js';
import type { GenerationPlan } from './check-inputs.js';

/**
 * `latents` [1, 4, h, w] (model space) → the output image; `steps` only names the step in a NaN error.
 * With `tiles`, latents larger than a tile are decoded tile by tile (diffusers' tiled_decode).
 */
export async function decodeLatents(model: PipelineModel, plan: GenerationPlan, latents: Float32Array, prepared: PreparedInit | undefined, steps: number, signal: AbortSignal | undefined, tiles: VaeTiles | null = null): Promise<RgbaImage> {
  const { width: W, height: H, latentHeight: h, latentWidth: w } = plan;
  throwIfAborted(signal);
  const unscaled = scaleInPlace(new Float32Array(latents), 1 / model.info.vaeScalingFactor);
  // [1, 3, H, W] in ≈[−1, 1]
  const decoded =
    tiles && needsTiling(h, w, tiles.latentTile)
      ? (
          await tiledDecode({ data: unscaled, channels: unscaled.length / (h * w), height: h, width: w }, tiles.latentTile, 3, async (tile) => {
            throwIfAborted(signal);
            return model.decodeLatents(tile.data, 1, tile.height, tile.width);
          })
        ).data
      : await model.decodeLatents(unscaled, 1, h, w);
  if (decoded.length !== 3 * H * W) throw new PipelineError('model-output', `VAE decoder returned ${decoded.length} values, expected ${3 * H * W}`);
  assertFinite(decoded, 'decoded image', steps);
  const rgba = decodedToRgba(decoded, 0, H, W);
  return prepared ? await prepared.finish(rgba) : { width: W, height: H, data: rgba };
}
