// The PNG codec seam for Node tests: pngjs (exact for every alpha, unlike a browser canvas).
import { PNG } from 'pngjs';
import type { PngCodec } from '../../../src-renderer/src/lib/files/ora.js';

export const nodePngCodec: PngCodec = {
  encode: async (r) => {
    const png = new PNG({ width: r.width, height: r.height });
    png.data = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    return new Uint8Array(PNG.sync.write(png));
  },
  decode: async (bytes) => {
    const png = PNG.sync.read(Buffer.from(bytes));
    return { width: png.width, height: png.height, data: new Uint8ClampedArray(png.data) };
  },
};
