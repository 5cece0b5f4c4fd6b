// CRC-32 (IEEE), the checksum of the gallery journal's lines and of the autosave blobs.
import zlib from 'node:zlib';

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** Node ≥ 20.15 / 22.2 has a native one (20× faster); the table version is the fallback. */
const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 (IEEE) of bytes. */
export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  if (nativeCrc32) return nativeCrc32(start === 0 && end === data.length ? data : data.subarray(start, end)) >>> 0;
  let c = -1;
  for (let i = start; i < end; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
