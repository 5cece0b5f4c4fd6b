// Plain in-memory rasters shared by the image helpers and the pipeline.
import sharp from 'sharp';

/** 8-bit RGBA, row-major, `data.length === width * height * 4`. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** 8-bit single channel (masks), row-major, `data.length === width * height`. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface DecodedImage extends RgbaImage {
  /** True when the source had an alpha channel (PNG/WebP with transparency support). */
  hasAlpha: boolean;
  /** sharp's format name: 'png', 'jpeg', 'webp', ... */
  format: string;
}

/**
 * How an init image (and its mask) of another size is brought to the requested width × height:
 * - `resize`: stretch to exactly width × height (the aspect ratio may change; A1111 "Just resize").
 * - `crop`: scale uniformly so the image covers width × height, then cut the centred
 *   width × height window (no distortion, edges may be lost; A1111 "Crop and resize").
 * - `fill`: scale uniformly so the image fits inside width × height, centre it, and fill the
 *   remaining bands by repeating the edge pixels (no distortion, nothing lost; A1111 "Resize and fill").
 * An image that already has the requested size is used as is in every mode (exact pixels).
 * Resampling uses sharp's lanczos3.
 */
export type ImageFit = 'crop' | 'resize' | 'fill';

export class ImageError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageError';
    this.code = code;
  }
}

/** Decodes PNG / JPEG / WebP (anything sharp reads) to RGBA, honouring EXIF orientation. */
export async function decodeImage(bytes: Uint8Array, what = 'image'): Promise<DecodedImage> {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new ImageError('bad-image', `The ${what} is empty.`);
  }
  try {
    const img = sharp(bytes, { failOn: 'error' }).autoOrient();
    const meta = await img.metadata();
    const { data, info } = await img.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      hasAlpha: meta.hasAlpha === true,
      format: meta.format ?? 'unknown',
    };
  } catch (err) {
    throw new ImageError('bad-image', `The ${what} could not be decoded (PNG, JPEG or WebP expected): ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function fitGeometry(srcW: number, srcH: number, w: number, h: number, mode: ImageFit) {
  if (mode === 'resize') return { rw: w, rh: h };
  if (mode === 'crop') {
    const scale = Math.max(w / srcW, h / srcH);
    return { rw: Math.max(w, Math.round(srcW * scale)), rh: Math.max(h, Math.round(srcH * scale)) };
  }
  const scale = Math.min(w / srcW, h / srcH);
  return { rw: Math.min(w, Math.max(1, Math.round(srcW * scale))), rh: Math.min(h, Math.max(1, Math.round(srcH * scale))) };
}

async function fitRaw(data: Uint8Array, srcW: number, srcH: number, channels: 1 | 4, w: number, h: number, mode: ImageFit): Promise<Uint8Array> {
  if (srcW === w && srcH === h) return data;
  const raw = { width: srcW, height: srcH, channels };
  const { rw, rh } = fitGeometry(srcW, srcH, w, h, mode);
  let pipe = sharp(data, { raw }).resize(rw, rh, { fit: 'fill', kernel: 'lanczos3' });
  const raw1 = (p: ReturnType<typeof sharp>) => (channels === 1 ? p.extractChannel(0) : p);
  let out = await raw1(pipe).raw().toBuffer();
  if (mode === 'crop' && (rw !== w || rh !== h)) {
    const left = Math.floor((rw - w) / 2);
    const top = Math.floor((rh - h) / 2);
    out = await raw1(sharp(out, { raw: { width: rw, height: rh, channels } }).extract({ left, top, width: w, height: h })).raw().toBuffer();
  } else if (mode === 'fill' && (rw !== w || rh !== h)) {
    const left = Math.floor((w - rw) / 2);
    const top = Math.floor((h - rh) / 2);
    pipe = sharp(out, { raw: { width: rw, height: rh, channels } }).extend({
      left,
      right: w - rw - left,
      top,
      bottom: h - rh - top,
      extendWith: 'copy',
    });
    out = await raw1(pipe).raw().toBuffer();
  }
  if (out.length !== w * h * channels) {
    throw new ImageError('resize-failed', `Resizing produced ${out.length} bytes, expected ${w * h * channels}.`);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Brings an RGBA image to width × height by the `ImageFit` rule. */
export async function fitImage(img: RgbaImage, width: number, height: number, mode: ImageFit): Promise<RgbaImage> {
  return { width, height, data: await fitRaw(img.data, img.width, img.height, 4, width, height, mode) };
}

/** Brings a mask to width × height by the same rule as its image (so the two stay aligned). */
export async function fitMask(mask: GrayImage, width: number, height: number, mode: ImageFit): Promise<GrayImage> {
  return { width, height, data: await fitRaw(mask.data, mask.width, mask.height, 1, width, height, mode) };
}

/** Crops a rectangle [x1, x2) × [y1, y2). */
export function cropRgba(img: RgbaImage, x1: number, y1: number, x2: number, y2: number): RgbaImage {
  const w = x2 - x1;
  const h = y2 - y1;
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    out.set(img.data.subarray(((y + y1) * img.width + x1) * 4, ((y + y1) * img.width + x2) * 4), y * w * 4);
  }
  return { width: w, height: h, data: out };
}

export function cropGray(img: GrayImage, x1: number, y1: number, x2: number, y2: number): GrayImage {
  const w = x2 - x1;
  const h = y2 - y1;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    out.set(img.data.subarray((y + y1) * img.width + x1, (y + y1) * img.width + x2), y * w);
  }
  return { width: w, height: h, data: out };
}

/** Drops the alpha channel: RGBA → RGB. */
export function rgbaToRgb(img: RgbaImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[i * 3] = img.data[i * 4]!;
    out[i * 3 + 1] = img.data[i * 4 + 1]!;
    out[i * 3 + 2] = img.data[i * 4 + 2]!;
  }
  return out;
}

/** Composites RGBA over an opaque background colour (default black), giving opaque RGBA. */
export function flattenRgba(img: RgbaImage, background: [number, number, number] = [0, 0, 0]): RgbaImage {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < img.data.length; i += 4) {
    const a = img.data[i + 3]!;
    if (a === 255) {
      out[i] = img.data[i]!;
      out[i + 1] = img.data[i + 1]!;
      out[i + 2] = img.data[i + 2]!;
    } else {
      for (let c = 0; c < 3; c++) out[i + c] = Math.round((img.data[i + c]! * a + background[c]! * (255 - a)) / 255);
    }
    out[i + 3] = 255;
  }
  return { width: img.width, height: img.height, data: out };
}
