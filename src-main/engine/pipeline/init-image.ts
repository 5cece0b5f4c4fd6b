// Init image and mask preparation for img2img / inpainting, and the final composite.
import {
  blurMask,
  compositeWithMask,
  cropGray,
  cropRgba,
  decodeImage,
  expandCropRegion,
  fitImage,
  fitMask,
  flattenRgba,
  ImageError,
  maskBoundingBox,
  maskFromImage,
  scaleMask,
  type CropRegion,
  type DecodedImage,
  type GrayImage,
  type RgbaImage,
} from '../image/index.js';
import { PipelineError } from './errors.js';
import { isRawPixels } from '../../shared/generate-request.js';
import type { ImageInput, NormalizedRequest } from './types.js';

export interface PreparedInit {
  /** The image the model sees, width × height (opaque RGBA). */
  image: RgbaImage;
  /** Inpainting: the feathered mask at width × height (255 = repaint). */
  mask?: GrayImage;
  /** The output returned when no denoising step runs: exactly the (fitted) init image. */
  base: RgbaImage;
  /** Turns the generated width × height RGBA into the final output (composite / paste-back). */
  finish(generated: Uint8Array): Promise<RgbaImage>;
}

/** An image file is decoded; raw RGBA pixels (the studio's canvas) are used as they are. */
async function decode(image: ImageInput, what: string): Promise<DecodedImage> {
  if (isRawPixels(image)) return { width: image.width, height: image.height, data: image.data, hasAlpha: true, format: 'raw' };
  try {
    return await decodeImage(image, what);
  } catch (err) {
    if (err instanceof ImageError) throw new PipelineError(what === 'mask' ? 'bad-mask' : 'bad-image', err.message, { cause: err });
    throw err;
  }
}

/** The mask as one byte a pixel (255 = repaint): a one-channel raster as it is, an image by maskFromImage's rules. */
async function maskOf(mask: ImageInput): Promise<GrayImage> {
  if (isRawPixels(mask) && mask.data.length === mask.width * mask.height) return mask;
  return maskFromImage(await decode(mask, 'mask'));
}

/**
 * Decodes and fits the init image (and mask) by the request's rules:
 * - img2img: the init image is fitted to width × height by `initImageFit`.
 * - inpainting (whole image): init and mask are fitted by `initImageFit`; the mask is feathered by
 *   `maskBlur` first (A1111 order); the output keeps every pixel where the doubled feathered mask
 *   is 0 (A1111's overlay) exactly as in the fitted init image.
 * - inpainting, only masked: the mask's bounding box + `inpaintPadding`, grown to the width:height
 *   aspect, is cut from the init image at its own size and fitted into width × height ('fill');
 *   the result is scaled back and pasted in, and the output has the init image's size.
 */
export async function prepareInit(req: NormalizedRequest): Promise<PreparedInit | undefined> {
  if (!req.initImage) return undefined;
  const { width, height } = req;
  const decoded = await decode(req.initImage, 'init image');
  const init = flattenRgba(decoded, [255, 255, 255]);

  if (!req.mask) {
    const image = await fitImage(init, width, height, req.initImageFit);
    return { image, base: image, finish: async (g) => ({ width, height, data: g }) };
  }

  const maskImg = await maskOf(req.mask);
  if (maskImg.width !== init.width || maskImg.height !== init.height) {
    throw new PipelineError(
      'bad-mask',
      `The mask is ${maskImg.width}x${maskImg.height} but the init image is ${init.width}x${init.height}: they must be the same size.`,
    );
  }
  const feathered = blurMask(maskImg, req.maskBlur);

  if (!req.inpaintOnlyMasked) {
    const image = await fitImage(init, width, height, req.initImageFit);
    const mask = await fitMask(feathered, width, height, req.initImageFit);
    const overlay = scaleMask(mask, 2);
    return {
      image,
      mask,
      base: image,
      finish: async (g) => ({ width, height, data: compositeWithMask(image.data, g, overlay) }),
    };
  }

  const box = maskBoundingBox(feathered, req.inpaintPadding);
  if (!box) {
    // Nothing to repaint: the generation still runs (for a uniform API) but everything is kept.
    const image = await fitImage(init, width, height, 'fill');
    const mask: GrayImage = { width, height, data: new Uint8Array(width * height) };
    return { image, mask, base: init, finish: async () => init };
  }
  const region: CropRegion = expandCropRegion(box, width, height, init.width, init.height);
  const [x1, y1, x2, y2] = region;
  const image = await fitImage(cropRgba(init, x1, y1, x2, y2), width, height, 'fill');
  const mask = await fitMask(cropGray(feathered, x1, y1, x2, y2), width, height, 'fill');
  return {
    image,
    mask,
    base: init,
    finish: async (g) => {
      const rw = x2 - x1;
      const rh = y2 - y1;
      const patch = await fitImage({ width, height, data: g }, rw, rh, 'crop');
      const pasted = new Uint8Array(init.data);
      for (let y = 0; y < rh; y++) pasted.set(patch.data.subarray(y * rw * 4, (y + 1) * rw * 4), ((y + y1) * init.width + x1) * 4);
      return { width: init.width, height: init.height, data: compositeWithMask(init.data, pasted, feathered) };
    },
  };
}

/** RGBA (width × height) → [1,3,H,W] float32 in [−1, 1]. */
export function rgbaToTensor(img: RgbaImage, zeroWhere?: GrayImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const masked = zeroWhere !== undefined && zeroWhere.data[i]! >= 128;
    for (let c = 0; c < 3; c++) out[c * n + i] = masked ? 0 : Math.fround(Math.fround(img.data[i * 4 + c]! / 255) * 2 - 1);
  }
  return out;
}

/**
 * The mask at latent size (h × w): the mean of each 8×8 block, binarised at 0.5 (A1111 rounds the
 * downscaled mask; diffusers binarises). 1 = repaint.
 */
export function latentMask(mask: GrayImage, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w);
  const sx = mask.width / w;
  const sy = mask.height / h;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sum = 0;
      let count = 0;
      for (let yy = Math.floor(y * sy); yy < Math.floor((y + 1) * sy); yy++) {
        for (let xx = Math.floor(x * sx); xx < Math.floor((x + 1) * sx); xx++) {
          sum += mask.data[yy * mask.width + xx]!;
          count++;
        }
      }
      out[y * w + x] = count > 0 && sum / count >= 127.5 ? 1 : 0;
    }
  }
  return out;
}
