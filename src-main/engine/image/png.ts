// PNG encoding (sharp) with text metadata chunks, and a reader for tEXt / zTXt / iTXt.
import sharp from 'sharp';
import extractChunks from 'png-chunks-extract';
import encodeChunks from 'png-chunks-encode';
import pngText from 'png-chunk-text';
import { ImageError } from './raster.js';
import { TextBudget, TextLimitError } from './text-limits.js';

export interface PngTextEntry {
  keyword: string;
  text: string;
  /** Force an iTXt (UTF-8) chunk; otherwise tEXt is used when the text is Latin-1, iTXt when not (as PIL does). */
  international?: boolean;
}

const LATIN1 = /^[\x00-\xff]*$/;

function itxtChunk(keyword: string, text: string): { name: string; data: Uint8Array } {
  const key = Buffer.from(keyword, 'latin1');
  const body = Buffer.from(text, 'utf8');
  // keyword \0 | compression flag 0 | method 0 | language tag "" \0 | translated keyword "" \0 | text
  const data = new Uint8Array(key.length + 5 + body.length);
  data.set(key, 0);
  let o = key.length;
  data[o++] = 0;
  data[o++] = 0;
  data[o++] = 0;
  data[o++] = 0;
  data[o++] = 0;
  data.set(body, o);
  return { name: 'iTXt', data };
}

function checkKeyword(keyword: string): void {
  if (keyword.length < 1 || keyword.length > 79 || !LATIN1.test(keyword) || keyword.includes('\0')) {
    throw new ImageError('bad-metadata', `PNG text keyword "${keyword}" must be 1-79 Latin-1 characters.`);
  }
}

/**
 * Encodes 8-bit RGB or RGBA pixels to PNG with sharp, then inserts the text chunks right after IHDR.
 * The output is deterministic for the same pixels and text.
 */
export async function encodePng(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: 3 | 4,
  text: readonly PngTextEntry[] = [],
): Promise<Uint8Array> {
  if (pixels.length !== width * height * channels) {
    throw new ImageError('bad-pixels', `encodePng: ${pixels.length} bytes for ${width}x${height}x${channels}.`);
  }
  const png = await sharp(pixels, { raw: { width, height, channels } })
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
  if (text.length === 0) return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
  const chunks = extractChunks(png);
  const extra = text.map((t) => {
    checkKeyword(t.keyword);
    if (!t.international && LATIN1.test(t.text) && !t.text.includes('\0')) return pngText.encode(t.keyword, t.text);
    return itxtChunk(t.keyword, t.text);
  });
  const ihdr = chunks.findIndex((c) => c.name === 'IHDR');
  chunks.splice(ihdr + 1, 0, ...extra);
  return encodeChunks(chunks);
}

function readLatin1(data: Uint8Array, start: number, end: number): string {
  return Buffer.from(data.buffer, data.byteOffset + start, end - start).toString('latin1');
}

/**
 * All text chunks of a PNG (tEXt, zTXt, iTXt), keyword → text; later duplicates win.
 * Throws ImageError('bad-image') if the bytes are not a PNG, ImageError('bad-metadata') when the text passes the
 * caps of text-limits.ts.
 */
export function readPngText(png: Uint8Array): Record<string, string> {
  let chunks;
  try {
    chunks = extractChunks(png);
  } catch (err) {
    throw new ImageError('bad-image', `Not a PNG file: ${(err as Error).message}`, { cause: err });
  }
  const out: Record<string, string> = {};
  const budget = new TextBudget();
  for (const chunk of chunks) {
    const d = chunk.data;
    try {
      if (chunk.name === 'tEXt') {
        budget.take(d.length, 'tEXt');
        const { keyword, text } = pngText.decode(d);
        out[keyword] = text;
      } else if (chunk.name === 'zTXt') {
        const z = d.indexOf(0);
        if (z < 0) continue;
        const keyword = readLatin1(d, 0, z);
        out[keyword] = budget.inflate(d.subarray(z + 2), keyword).toString('latin1');
      } else if (chunk.name === 'iTXt') {
        const z = d.indexOf(0);
        if (z < 0) continue;
        const keyword = readLatin1(d, 0, z);
        const compressed = d[z + 1] === 1;
        const lang = d.indexOf(0, z + 3);
        const translated = d.indexOf(0, lang + 1);
        if (lang < 0 || translated < 0) continue;
        const body = d.subarray(translated + 1);
        if (!compressed) budget.take(body.length, keyword);
        out[keyword] = (compressed ? budget.inflate(body, keyword) : Buffer.from(body.buffer, body.byteOffset, body.byteLength)).toString('utf8');
      }
    } catch (error) {
      if (error instanceof TextLimitError) throw new ImageError('bad-metadata', error.message, { cause: error });
      // A damaged text chunk is skipped; the image itself may still be fine.
    }
  }
  return out;
}
