// A text chunk added to a finished PNG: how an exported picture carries its A1111 `parameters`.
// tEXt when the text is Latin-1, iTXt (UTF-8) otherwise — what PIL and A1111 write.
import { strToU8 } from 'fflate';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function latin1(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) return null;
    out[i] = c;
  }
  return out;
}

function textChunkBody(keyword: string, text: string): { type: string; body: Uint8Array } {
  const key = latin1(keyword);
  if (!key || key.length < 1 || key.length > 79) throw new Error(`Bad PNG text keyword: ${keyword}`);
  const plain = latin1(text);
  if (plain) return { type: 'tEXt', body: concat([key, [0], plain]) };
  // iTXt: keyword, 0, compression flag 0, method 0, empty language tag, 0, empty translated keyword, 0, UTF-8 text.
  return { type: 'iTXt', body: concat([key, [0, 0, 0, 0, 0], strToU8(text)]) };
}

/** `png` with a text chunk inserted before IEND. */
export function withPngText(png: Uint8Array, keyword: string, text: string): Uint8Array {
  if (!SIGNATURE.every((b, i) => png[i] === b)) throw new Error('Not a PNG.');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  while (at + 8 <= png.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  if (at + 8 > png.length) throw new Error('PNG without IEND.');
  const { type, body } = textChunkBody(keyword, text);
  const typeAndBody = concat([strToU8(type), body]);
  const chunk = new Uint8Array(12 + body.length);
  const cv = new DataView(chunk.buffer);
  cv.setUint32(0, body.length);
  chunk.set(typeAndBody, 4);
  cv.setUint32(8 + body.length, crc32(typeAndBody));
  return concat([png.subarray(0, at), chunk, png.subarray(at)]);
}

function concat(parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
