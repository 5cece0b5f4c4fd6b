// Stage 3: the init image (and, for 9-channel inpainting, the masked image) through the VAE encoder,
// once per request; sampling the encoded distribution happens per image (prepareLatents).
import { PipelineError, throwIfAborted } from '../errors.js';
import { latentMask, rgbaToTensor, type PreparedInit } from '../init-image.js';
import type { EncodedImageLatent, PipelineModel } from '../types.js';
import { needsTiling, tiledEncode, type VaeTiles } from '../vae-tiling.js';
import type { GenerationPlan } from './check-inputs.js';

export interface EncodedImages {
  /** The init image encoded (img2img, 4-channel inpainting, 9-channel inpainting below strength 1). */
  init?: EncodedImageLatent;
  /** 9-channel UNet: the init image with the area to repaint zeroed (all zero for text-to-image). */
  maskedImage?: EncodedImageLatent;
  /** [1, 1, h/8, w/8], 1 = repaint (inpainting; all ones for 9-channel text-to-image). */
  latentMask?: Float32Array;
}

/**
 * With `tiles`, an image larger than a tile is encoded tile by tile (diffusers' _tiled_encode): the encoder's
 * outputs are blended, so a 'parameters' encoder's mean and log-variance are sampled after blending, as in
 * diffusers; a 'sample' encoder (sampled inside the graph) has its samples blended.
 */
export async function encodeImages(model: PipelineModel, plan: GenerationPlan, prepared: PreparedInit | undefined, strength: number, signal: AbortSignal | undefined, tiles: VaeTiles | null = null): Promise<EncodedImages> {
  const { width: W, height: H, latentHeight: h, latentWidth: w, inpaintUnet } = plan;
  const encodeWhole = async (pixels: Float32Array, height: number, width: number): Promise<EncodedImageLatent> => {
    throwIfAborted(signal);
    const enc = await model.encodeImage(pixels, height, width);
    if (enc.kind !== 'sample' && enc.kind !== 'parameters') throw new PipelineError('model-output', `unknown VAE encoder output kind ${String(enc.kind)}`);
    return enc;
  };
  const encode = async (pixels: Float32Array): Promise<EncodedImageLatent> => {
    if (!tiles || !needsTiling(H, W, tiles.sampleTile)) return encodeWhole(pixels, H, W);
    let kind: EncodedImageLatent['kind'] = 'sample';
    const moments = await tiledEncode({ data: pixels, channels: 3, height: H, width: W }, tiles.sampleTile, model.info.vaeEncoder === 'latent_parameters' ? 8 : 4, async (tile) => {
      const enc = await encodeWhole(tile.data, tile.height, tile.width);
      kind = enc.kind;
      return enc.data;
    });
    return { kind, data: moments.data };
  };
  const out: EncodedImages = {};
  // A 9-channel UNet at full strength starts from pure noise and sees the image only through the masked copy.
  if (prepared && (plan.mode === 'img2img' || !inpaintUnet || strength < 1)) out.init = await encode(rgbaToTensor(prepared.image));
  if (inpaintUnet) {
    const mask = prepared?.mask ?? { width: W, height: H, data: new Uint8Array(W * H).fill(255) };
    out.latentMask = latentMask(mask, h, w);
    const image = prepared?.image ?? { width: W, height: H, data: new Uint8Array(W * H * 4) };
    out.maskedImage = await encode(rgbaToTensor(image, mask));
  } else if (plan.mode === 'inpaint') {
    out.latentMask = latentMask(prepared!.mask!, h, w);
  }
  return out;
}
