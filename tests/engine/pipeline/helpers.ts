// Small image helpers for the pipeline tests.
import sharp from 'sharp';

/** A deterministic colourful opaque RGB PNG. */
export async function makeTestImage(width: number, height: number, seed = 1): Promise<Uint8Array> {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const i = (y * width + x) * 3;
    data[i] = (x * 7 + seed * 13) & 255;
    data[i + 1] = (y * 5 + seed * 29) & 255;
    data[i + 2] = ((x ^ y) * 3 + seed) & 255;
  }
  return new Uint8Array(await sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

/** A black mask with a white rectangle [x1,x2)×[y1,y2). */
export async function makeRectMask(width: number, height: number, x1: number, y1: number, x2: number, y2: number): Promise<Uint8Array> {
  const data = new Uint8Array(width * height);
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) data[y * width + x] = 255;
  return new Uint8Array(await sharp(data, { raw: { width, height, channels: 1 } }).png().toBuffer());
}

export async function rawRgb(png: Uint8Array): Promise<{ width: number; height: number; data: Uint8Array }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}
