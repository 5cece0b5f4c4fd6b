// The pure-JS PNG code the gallery uses in the Electron main process (no sharp there; pixels via pngjs): decoding
// every common colour type against sharp's decoder, downscaling, encoding, text chunks.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodePngRgb, downscaleRgb, encodePngRgb, PngError, pngTextChunks, pngThumbnailer } from '../../src-main/gallery/index.js';
import { tinyPng } from './helpers.js';

function noise(w: number, h: number, c: number): Buffer {
  const b = Buffer.alloc(w * h * c);
  for (let i = 0; i < b.length; i++) b[i] = (i * 2654435761) >>> 24;
  return b;
}

async function sharpRgb(png: Uint8Array): Promise<Buffer> {
  return sharp(png).flatten({ background: { r: 0x2a, g: 0x2a, b: 0x2a } }).removeAlpha().toColourspace('srgb').raw().toBuffer();
}

describe('png-lite', () => {
  const cases: Array<[string, () => Promise<Buffer>]> = [
    ['RGB 8-bit', () => sharp(noise(37, 23, 3), { raw: { width: 37, height: 23, channels: 3 } }).png({ adaptiveFiltering: true }).toBuffer()],
    ['RGBA 8-bit', () => sharp(noise(20, 9, 4), { raw: { width: 20, height: 9, channels: 4 } }).png().toBuffer()],
    ['grey 8-bit', () => sharp(noise(17, 5, 1), { raw: { width: 17, height: 5, channels: 1 } }).png().toBuffer()],
    ['RGB 16-bit', () => sharp(noise(11, 7, 3), { raw: { width: 11, height: 7, channels: 3 } }).toColourspace('rgb16').png().toBuffer()],
    ['palette', () => sharp(noise(19, 13, 3), { raw: { width: 19, height: 13, channels: 3 } }).png({ palette: true, colours: 16 }).toBuffer()],
    ['palette 2-bit', () => sharp(noise(9, 5, 3), { raw: { width: 9, height: 5, channels: 3 } }).png({ palette: true, colours: 4 }).toBuffer()],
    ['grey+alpha 8-bit', () => sharp(noise(13, 6, 2), { raw: { width: 13, height: 6, channels: 2 } }).png().toBuffer()],
    ['RGB 8-bit interlaced', () => sharp(noise(16, 16, 3), { raw: { width: 16, height: 16, channels: 3 } }).png({ progressive: true }).toBuffer()],
  ];
  for (const [name, make] of cases) {
    it(`decodes ${name} like sharp`, async () => {
      const png = await make();
      const mine = decodePngRgb(png);
      const theirs = await sharpRgb(png);
      expect(mine.data.length).toBe(theirs.length);
      let maxDiff = 0;
      for (let i = 0; i < theirs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(mine.data[i]! - theirs[i]!));
      expect(maxDiff).toBeLessThanOrEqual(/RGBA|alpha/.test(name) ? 1 : 0);
    });
  }

  it('interlaced PNGs get a thumbnail; bytes after IEND are ignored; damaged data: an error', async () => {
    const png = await sharp(noise(16, 16, 3), { raw: { width: 16, height: 16, channels: 3 } }).png({ progressive: true }).toBuffer();
    expect(png[8 + 8 + 12]).toBe(1); // IHDR interlace method: Adam7
    const thumb = await pngThumbnailer.make(png, 8);
    expect(await sharp(thumb!).metadata()).toMatchObject({ width: 8, height: 8, format: 'png' });
    expect(decodePngRgb(Buffer.concat([png, Buffer.from('trailing junk')])).data).toEqual(decodePngRgb(png).data);
    expect(() => decodePngRgb(new Uint8Array([1, 2, 3]))).toThrow(/not a PNG/);
    expect(() => decodePngRgb(png.subarray(0, png.length - 40))).toThrow(PngError);
  });

  it('downscale (area average) + encode round-trips through sharp', async () => {
    const img = { width: 4, height: 2, data: new Uint8Array([0, 0, 0, 255, 255, 255, 10, 20, 30, 30, 40, 50, 0, 0, 0, 255, 255, 255, 10, 20, 30, 30, 40, 50]) };
    const small = downscaleRgb(img, 2);
    expect(small).toEqual({ width: 2, height: 1, data: new Uint8Array([128, 128, 128, 20, 30, 40]) });
    const big = { width: 300, height: 120, data: new Uint8Array(noise(300, 120, 3)) };
    const png = encodePngRgb(big);
    expect(Buffer.from(await sharp(png).raw().toBuffer())).toEqual(Buffer.from(big.data));
    const thumb = await pngThumbnailer.make(png, 256);
    expect(await sharp(thumb!).metadata()).toMatchObject({ width: 256, height: 102, format: 'png' });
  });

  it('reads tEXt, iTXt (UTF-8) and zTXt chunks', async () => {
    const png = await tinyPng([
      { keyword: 'parameters', text: 'a castle' },
      { keyword: 'latent-studio', text: '{"prompt":"城"}', international: true },
    ]);
    expect(pngTextChunks(png)).toEqual({ parameters: 'a castle', 'latent-studio': '{"prompt":"城"}' });
  });
});
