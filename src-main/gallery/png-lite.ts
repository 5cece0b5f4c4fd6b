// PNG in pure JS (no native code): text chunks read here, pixels decoded and encoded by pngjs, plus a box-filter
// downscaler. The Electron main process must not load native modules (sharp, onnxruntime live in the engine
// process), so the gallery reads metadata and makes its thumbnails with this. pngjs handles every standard PNG:
// 1-16 bit grey, grey+alpha, RGB, RGBA and palette images, interlaced (Adam7) or not.
import { PNG } from 'pngjs';
import { TextBudget, TextLimitError } from '../engine/image/text-limits.js';

export interface PngChunk {
  type: string;
  data: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export class PngError extends Error {
  readonly code = 'bad-image';
  constructor(message: string) {
    super(message);
    this.name = 'PngError';
  }
}

/** The chunks of a PNG (CRCs not checked; a truncated last chunk ends the list). Throws PngError when the signature is wrong. */
export function pngChunks(png: Uint8Array): PngChunk[] {
  return [...eachChunk(png)];
}

function* eachChunk(png: Uint8Array): Generator<PngChunk> {
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) throw new PngError('not a PNG file (bad signature)');
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8;
  while (pos + 8 <= png.length) {
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(png[pos + 4]!, png[pos + 5]!, png[pos + 6]!, png[pos + 7]!);
    if (pos + 12 + len > png.length) break;
    yield { type, data: png.subarray(pos + 8, pos + 8 + len) };
    pos += 12 + len;
    if (type === 'IEND') break;
  }
}

/** More chunks than any real PNG has (a 256 MB image in 8 KB IDAT chunks has 32k): a file made of tiny chunks. */
const MAX_CHUNKS = 200_000;

const latin1 = (d: Uint8Array): string => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('latin1');
const utf8 = (d: Uint8Array): string => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('utf8');

/**
 * Every tEXt / zTXt / iTXt chunk, keyword → text (later duplicates win; damaged ones are skipped). Throws PngError
 * when the text is larger than the caps of text-limits.ts (a bomb or a hostile file: none of it is read).
 */
export function pngTextChunks(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const budget = new TextBudget();
  let chunks = 0;
  for (const { type, data: d } of eachChunk(png)) {
    if (++chunks > MAX_CHUNKS) throw new PngError(`PNG with more than ${MAX_CHUNKS} chunks; its metadata was not read.`);
    try {
      if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') continue;
      const z = d.indexOf(0);
      if (z <= 0) continue;
      const keyword = latin1(d.subarray(0, z));
      if (type === 'tEXt') {
        budget.take(d.length - z - 1, keyword);
        out[keyword] = latin1(d.subarray(z + 1));
      } else if (type === 'zTXt') out[keyword] = latin1(budget.inflate(d.subarray(z + 2), keyword));
      else {
        const compressed = d[z + 1] === 1;
        const lang = d.indexOf(0, z + 3);
        const translated = lang < 0 ? -1 : d.indexOf(0, lang + 1);
        if (translated < 0) continue;
        const body = d.subarray(translated + 1);
        if (!compressed) budget.take(body.length, keyword);
        out[keyword] = compressed ? utf8(budget.inflate(body, keyword)) : utf8(body);
      }
    } catch (error) {
      if (error instanceof TextLimitError) throw new PngError(error.message);
      // otherwise: skip a damaged chunk
    }
  }
  return out;
}

export interface RgbImage {
  width: number;
  height: number;
  /** width·height·3 bytes. */
  data: Uint8Array;
}

const MAX_PIXELS = 64 * 1024 * 1024;

/** Decodes (pngjs) to 8-bit RGB (alpha composited over `background`; 16-bit samples keep their high byte). Throws PngError when damaged. */
export function decodePngRgb(png: Uint8Array, background = 0x2a): RgbImage {
  const chunks = pngChunks(png);
  const ihdr = chunks[0];
  if (!ihdr || ihdr.type !== 'IHDR' || ihdr.data.length < 13) throw new PngError('PNG without IHDR');
  const hv = new DataView(ihdr.data.buffer, ihdr.data.byteOffset, 13);
  const width = hv.getUint32(0);
  const height = hv.getUint32(4);
  const depth = ihdr.data[8]!;
  if (width === 0 || height === 0 || width * height > MAX_PIXELS) throw new PngError(`unsupported PNG size ${width}x${height}`);
  // pngjs rejects bytes after IEND; image tools sometimes append some, so end the file at IEND.
  const last = chunks[chunks.length - 1]!;
  const end = last.type === 'IEND' ? last.data.byteOffset - png.byteOffset + last.data.length + 4 : png.length;
  let rgba: Uint8Array | Uint16Array;
  try {
    // skipRescale for 16 bit: RGBA as a Uint16Array (pngjs would otherwise round v·255/65535; sharp and we take v >> 8).
    rgba = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, end), { checkCRC: false, skipRescale: depth === 16 }).data;
  } catch (error) {
    throw new PngError(`damaged PNG: ${(error as Error).message}`);
  }
  const shift = depth === 16 ? 8 : 0;
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0; o < out.length; i += 4, o += 3) {
    const r = rgba[i]! >> shift;
    const g = rgba[i + 1]! >> shift;
    const b = rgba[i + 2]! >> shift;
    const a = rgba[i + 3]! >> shift;
    if (a === 255) {
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    } else {
      out[o] = (r * a + background * (255 - a) + 127) / 255;
      out[o + 1] = (g * a + background * (255 - a) + 127) / 255;
      out[o + 2] = (b * a + background * (255 - a) + 127) / 255;
    }
  }
  return { width, height, data: out };
}

/** Area-average downscale so the longer edge is at most `max` (never enlarges). */
export function downscaleRgb(img: RgbImage, max: number): RgbImage {
  const scale = Math.min(1, max / Math.max(img.width, img.height));
  if (scale === 1) return img;
  const tw = Math.max(1, Math.round(img.width * scale));
  const th = Math.max(1, Math.round(img.height * scale));
  const out = new Uint8Array(tw * th * 3);
  const src = img.data;
  for (let ty = 0; ty < th; ty++) {
    const y0 = Math.floor((ty * img.height) / th);
    const y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * img.height) / th));
    for (let tx = 0; tx < tw; tx++) {
      const x0 = Math.floor((tx * img.width) / tw);
      const x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * img.width) / tw));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = y0; y < y1; y++) {
        let i = (y * img.width + x0) * 3;
        for (let x = x0; x < x1; x++, i += 3) {
          r += src[i]!;
          g += src[i + 1]!;
          b += src[i + 2]!;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (ty * tw + tx) * 3;
      out[o] = (r + (n >> 1)) / n;
      out[o + 1] = (g + (n >> 1)) / n;
      out[o + 2] = (b + (n >> 1)) / n;
    }
  }
  return { width: tw, height: th, data: out };
}

/** 8-bit RGB → PNG (pngjs; Paeth filter on every row, deflate level 6 with zlib's default strategy: pngjs's
 * default, Z_RLE, makes thumbnails 1.5-4× larger). */
export function encodePngRgb(img: RgbImage): Uint8Array {
  const { width, height, data } = img;
  const png = new PNG();
  png.width = width;
  png.height = height;
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8, filterType: 4, deflateLevel: 6, deflateStrategy: 0 });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** A thumbnail maker: PNG bytes in, thumbnail bytes out (null: cannot make one). */
export interface Thumbnailer {
  /** File extension and MIME type of what it makes. */
  ext: 'png' | 'webp' | 'jpg';
  mime: string;
  make(png: Uint8Array, size: number): Promise<Uint8Array | null>;
}

/** Pure JS (usable in the Electron main process): PNG thumbnails. */
export const pngThumbnailer: Thumbnailer = {
  ext: 'png',
  mime: 'image/png',
  async make(png, size) {
    return encodePngRgb(downscaleRgb(decodePngRgb(png), size));
  },
};
