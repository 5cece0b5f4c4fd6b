// PNG without native code (node:zlib only): text chunks, a decoder to 8-bit RGB, a box-filter downscaler and an
// encoder. The Electron main process must not load native modules (sharp, onnxruntime live in the engine
// process), so the gallery reads metadata and makes its thumbnails with this. Handles the PNGs image tools write:
// 8/16-bit grey, grey+alpha, RGB, RGBA and 1-8 bit palette images, non-interlaced (Adam7 → null).
import { deflateSync, inflateSync } from 'node:zlib';
import { crc32 } from './journal.js';

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
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) throw new PngError('not a PNG file (bad signature)');
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: PngChunk[] = [];
  let pos = 8;
  while (pos + 8 <= png.length) {
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(png[pos + 4]!, png[pos + 5]!, png[pos + 6]!, png[pos + 7]!);
    if (pos + 12 + len > png.length) break;
    out.push({ type, data: png.subarray(pos + 8, pos + 8 + len) });
    pos += 12 + len;
    if (type === 'IEND') break;
  }
  return out;
}

const latin1 = (d: Uint8Array): string => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('latin1');
const utf8 = (d: Uint8Array): string => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('utf8');

/** Every tEXt / zTXt / iTXt chunk, keyword → text (later duplicates win; damaged ones are skipped). */
export function pngTextChunks(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { type, data: d } of pngChunks(png)) {
    try {
      if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') continue;
      const z = d.indexOf(0);
      if (z <= 0) continue;
      const keyword = latin1(d.subarray(0, z));
      if (type === 'tEXt') out[keyword] = latin1(d.subarray(z + 1));
      else if (type === 'zTXt') out[keyword] = latin1(inflateSync(d.subarray(z + 2)));
      else {
        const compressed = d[z + 1] === 1;
        const lang = d.indexOf(0, z + 3);
        const translated = lang < 0 ? -1 : d.indexOf(0, lang + 1);
        if (translated < 0) continue;
        const body = d.subarray(translated + 1);
        out[keyword] = compressed ? utf8(inflateSync(body)) : utf8(body);
      }
    } catch {
      // skip a damaged chunk
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

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes to 8-bit RGB (alpha composited over `background`). Returns null for interlaced PNGs. Throws PngError when damaged. */
export function decodePngRgb(png: Uint8Array, background = 0x2a): RgbImage | null {
  const chunks = pngChunks(png);
  const ihdr = chunks[0];
  if (!ihdr || ihdr.type !== 'IHDR' || ihdr.data.length < 13) throw new PngError('PNG without IHDR');
  const hv = new DataView(ihdr.data.buffer, ihdr.data.byteOffset, 13);
  const width = hv.getUint32(0);
  const height = hv.getUint32(4);
  const depth = ihdr.data[8]!;
  const colorType = ihdr.data[9]!;
  if (ihdr.data[12] !== 0) return null;
  if (width === 0 || height === 0 || width * height > 64 * 1024 * 1024) throw new PngError(`unsupported PNG size ${width}x${height}`);
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth)) throw new PngError(`unsupported PNG colour type ${colorType} / depth ${depth}`);
  const palette = chunks.find((c) => c.type === 'PLTE')?.data;
  const trns = chunks.find((c) => c.type === 'tRNS')?.data;
  const idat = Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data));
  let raw: Uint8Array;
  try {
    raw = inflateSync(idat);
  } catch (error) {
    throw new PngError(`damaged image data: ${(error as Error).message}`);
  }
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  if (raw.length < height * (stride + 1)) throw new PngError('truncated image data');
  const cur = new Uint8Array(stride);
  const prev = new Uint8Array(stride);
  const out = new Uint8Array(width * height * 3);
  const sample = (row: Uint8Array, i: number): number => {
    // i-th sample of the row, scaled to 8 bits
    if (depth === 8) return row[i]!;
    if (depth === 16) return row[i * 2]!;
    const perByte = 8 / depth;
    const byte = row[Math.floor(i / perByte)]!;
    const shift = 8 - depth * ((i % perByte) + 1);
    const v = (byte >> shift) & ((1 << depth) - 1);
    return colorType === 3 ? v : Math.round((v * 255) / ((1 << depth) - 1));
  };
  for (let y = 0; y < height; y++) {
    const off = y * (stride + 1);
    const filter = raw[off]!;
    const line = raw.subarray(off + 1, off + 1 + stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? cur[x - bpp]! : 0;
      const b = prev[x]!;
      const c = x >= bpp ? prev[x - bpp]! : 0;
      const v = line[x]!;
      cur[x] = (filter === 0 ? v : filter === 1 ? v + a : filter === 2 ? v + b : filter === 3 ? v + ((a + b) >> 1) : filter === 4 ? v + paeth(a, b, c) : v) & 255;
    }
    for (let x = 0; x < width; x++) {
      let r: number, g: number, bl: number, al = 255;
      if (colorType === 3) {
        const idx = sample(cur, x);
        r = palette?.[idx * 3] ?? 0;
        g = palette?.[idx * 3 + 1] ?? 0;
        bl = palette?.[idx * 3 + 2] ?? 0;
        if (trns && idx < trns.length) al = trns[idx]!;
      } else if (colorType === 0 || colorType === 4) {
        r = g = bl = sample(cur, x * channels);
        if (colorType === 4) al = sample(cur, x * channels + 1);
      } else {
        r = sample(cur, x * channels);
        g = sample(cur, x * channels + 1);
        bl = sample(cur, x * channels + 2);
        if (colorType === 6) al = sample(cur, x * channels + 3);
      }
      const o = (y * width + x) * 3;
      if (al === 255) {
        out[o] = r;
        out[o + 1] = g;
        out[o + 2] = bl;
      } else {
        out[o] = (r * al + background * (255 - al) + 127) / 255;
        out[o + 1] = (g * al + background * (255 - al) + 127) / 255;
        out[o + 2] = (bl * al + background * (255 - al) + 127) / 255;
      }
    }
    prev.set(cur);
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

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out, 4, 8 + data.length), 8 + data.length);
  return out;
}

/** 8-bit RGB → PNG (Paeth filter on every row, deflate level 6). */
export function encodePngRgb(img: RgbImage): Uint8Array {
  const { width, height, data } = img;
  const stride = width * 3;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    raw[o] = 4;
    for (let x = 0; x < stride; x++) {
      const i = y * stride + x;
      const a = x >= 3 ? data[i - 3]! : 0;
      const b = y > 0 ? data[i - stride]! : 0;
      const c = x >= 3 && y > 0 ? data[i - stride - 3]! : 0;
      raw[o + 1 + x] = (data[i]! - paeth(a, b, c)) & 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const out = Buffer.concat([Buffer.from(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))]);
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
    const img = decodePngRgb(png);
    return img ? encodePngRgb(downscaleRgb(img, size)) : null;
  },
};
