import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  blurMask,
  compositeWithMask,
  decodeImage,
  encodePng,
  expandCropRegion,
  fitImage,
  formatInfotext,
  maskBoundingBox,
  maskFromImage,
  parseInfotext,
  readImageMetadata,
  readPngText,
  schedulerFromA1111,
} from '../../../src-main/engine/image/index.js';

const rgba = (w: number, h: number, f: (x: number, y: number) => [number, number, number, number]) => {
  const d = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d.set(f(x, y), (y * w + x) * 4);
  return { width: w, height: h, data: d };
};

describe('infotext (A1111)', () => {
  it('formats exactly like A1111', () => {
    const text = formatInfotext({
      prompt: 'a cat',
      negativePrompt: 'neg',
      params: [
        ['Steps', 20],
        ['Sampler', 'Euler a'],
        ['CFG scale', 7],
        ['Seed', '123'],
        ['Size', '512x512'],
        ['Model', 'name'],
        ['Denoising strength', undefined],
      ],
    });
    expect(text).toBe('a cat\nNegative prompt: neg\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 123, Size: 512x512, Model: name');
    expect(formatInfotext({ prompt: 'p', params: [['Steps', 1], ['Model', 'a, b: c']] })).toBe('p\nSteps: 1, Model: "a, b: c"');
  });

  it('parses A1111 infotext (multi-line prompt, quoted values, sizes, unknown keys)', () => {
    const t = 'masterpiece, (best:1.2)\nsecond line\nNegative prompt: lowres,\nbad hands\nSteps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 18446744073709551615, Size: 640x448, Model hash: abcd, Model: "my, model", Denoising strength: 0.4, Mask blur: 4, Lora hashes: "x: 1, y: 2"';
    const p = parseInfotext(t);
    expect(p.prompt).toBe('masterpiece, (best:1.2)\nsecond line');
    expect(p.negativePrompt).toBe('lowres,\nbad hands');
    expect(p).toMatchObject({ steps: 30, sampler: 'dpmpp-2m', samplerName: 'DPM++ 2M Karras', cfgScale: 6.5, seed: '18446744073709551615', width: 640, height: 448, model: 'my, model', denoisingStrength: 0.4, maskBlur: 4 });
    expect(p.params['Lora hashes']).toBe('x: 1, y: 2');
    expect(p.params['Model hash']).toBe('abcd');
    // A prompt-only text (fewer than 3 params on the last line) is all prompt.
    expect(parseInfotext('just a prompt\nwith: colon')).toMatchObject({ prompt: 'just a prompt\nwith: colon', negativePrompt: '', params: {} });
    expect(schedulerFromA1111('Euler a')).toBe('euler-ancestral');
    expect(schedulerFromA1111('PLMS')).toBe('pndm');
  });

  it('round-trips what we write', () => {
    const text = formatInfotext({ prompt: 'a, b', negativePrompt: 'c', params: [['Steps', 5], ['Sampler', 'UniPC'], ['CFG scale', 1.5], ['Seed', '9'], ['Size', '64x32']] });
    expect(parseInfotext(text)).toMatchObject({ prompt: 'a, b', negativePrompt: 'c', steps: 5, sampler: 'unipc', cfgScale: 1.5, seed: '9', width: 64, height: 32 });
  });
});

describe('PNG metadata', () => {
  it('writes tEXt for Latin-1 and iTXt otherwise; reads both back, sharp still decodes it', async () => {
    const px = new Uint8Array(4 * 4 * 3).fill(100);
    const png = await encodePng(px, 4, 4, 3, [
      { keyword: 'parameters', text: 'a cat\nSteps: 1, Sampler: Euler, CFG scale: 7' },
      { keyword: 'latent-studio', text: JSON.stringify({ prompt: '猫 🐈' }), international: true },
      { keyword: 'Comment', text: 'ünïcode ✓' },
    ]);
    const text = readPngText(png);
    expect(text['parameters']).toBe('a cat\nSteps: 1, Sampler: Euler, CFG scale: 7');
    expect(JSON.parse(text['latent-studio']!)).toEqual({ prompt: '猫 🐈' });
    expect(text['Comment']).toBe('ünïcode ✓');
    const chunkNames = Buffer.from(png).toString('latin1');
    expect(chunkNames).toContain('tEXtparameters');
    expect(chunkNames).toContain('iTXtlatent-studio');
    const meta = readImageMetadata(png);
    expect(meta.request).toEqual({ prompt: '猫 🐈' });
    expect(meta.infotext?.steps).toBe(1);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(4);
    expect(data[0]).toBe(100);
    // deterministic bytes
    expect(Buffer.from(await encodePng(px, 4, 4, 3, [{ keyword: 'parameters', text: 'x' }])).equals(Buffer.from(await encodePng(px, 4, 4, 3, [{ keyword: 'parameters', text: 'x' }])))).toBe(true);
  });

  it('reads zTXt / compressed iTXt written by other tools (PIL-style)', async () => {
    const { deflateSync } = await import('node:zlib');
    const extract = (await import('png-chunks-extract')).default;
    const encode = (await import('png-chunks-encode')).default;
    const base = await encodePng(new Uint8Array(3), 1, 1, 3);
    const chunks = extract(base);
    const z = Buffer.concat([Buffer.from('parameters\0\0', 'latin1'), deflateSync(Buffer.from('zipped', 'latin1'))]);
    const it8 = Buffer.concat([Buffer.from('other\0\x01\0en\0\0', 'latin1'), deflateSync(Buffer.from('ÿ ✓', 'utf8'))]);
    chunks.splice(1, 0, { name: 'zTXt', data: new Uint8Array(z) }, { name: 'iTXt', data: new Uint8Array(it8) });
    const text = readPngText(encode(chunks));
    expect(text).toMatchObject({ parameters: 'zipped', other: 'ÿ ✓' });
  });

  it('not a PNG → clear error', () => {
    expect(() => readPngText(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/Not a PNG/);
  });
});

describe('decode and fit', () => {
  it('decodes PNG / JPEG / WebP to RGBA', async () => {
    const raw = new Uint8Array(8 * 6 * 3).fill(200);
    for (const fmt of ['png', 'jpeg', 'webp'] as const) {
      const bytes = await sharp(raw, { raw: { width: 8, height: 6, channels: 3 } }).toFormat(fmt).toBuffer();
      const img = await decodeImage(bytes);
      expect(img).toMatchObject({ width: 8, height: 6, format: fmt, hasAlpha: false });
      expect(img.data.length).toBe(8 * 6 * 4);
      expect(img.data[3]).toBe(255);
    }
    await expect(decodeImage(new Uint8Array([0, 1, 2]))).rejects.toMatchObject({ code: 'bad-image' });
  });

  it('crop / resize / fill rules', async () => {
    // 40x20: left half red, right half blue; top row marked green
    const img = rgba(40, 20, (x, y) => (y === 0 ? [0, 255, 0, 255] : x < 20 ? [255, 0, 0, 255] : [0, 0, 255, 255]));
    const same = await fitImage(img, 40, 20, 'crop');
    expect(same.data).toBe(img.data);
    const crop = await fitImage(img, 16, 16, 'crop'); // scale to 32x16, cut the centre
    expect(crop.width).toBe(16);
    expect(crop.data[(8 * 16 + 1) * 4]).toBeGreaterThan(200); // left: red
    expect(crop.data[(8 * 16 + 14) * 4 + 2]).toBeGreaterThan(200); // right: blue
    const fill = await fitImage(img, 16, 16, 'fill'); // fit as 16x8 in the middle, bands repeat edges
    // the top band (rows 0-3) repeats the first row of the image (row 4), the bottom band its last row
    expect(Array.from(fill.data.subarray(0, 16 * 4))).toEqual(Array.from(fill.data.subarray(4 * 16 * 4, 5 * 16 * 4)));
    expect(fill.data[(4 * 16 + 2) * 4 + 1]).toBeGreaterThan(50); // some green from the top row
    expect(fill.data[(15 * 16 + 2) * 4]).toBeGreaterThan(200); // bottom band copies red
    const resize = await fitImage(img, 16, 16, 'resize');
    expect(resize.data.length).toBe(16 * 16 * 4);
  });
});

describe('masks', () => {
  it('alpha when not opaque, else luminance', () => {
    const withAlpha = { ...rgba(2, 1, (x) => [0, 0, 0, x ? 255 : 0]), hasAlpha: true, format: 'png' };
    expect(Array.from(maskFromImage(withAlpha).data)).toEqual([0, 255]);
    const opaque = { ...rgba(2, 1, (x) => (x ? [255, 255, 255, 255] : [0, 0, 0, 255])), hasAlpha: true, format: 'png' };
    expect(Array.from(maskFromImage(opaque).data)).toEqual([0, 255]);
  });

  it('A1111 blur: symmetric, kernel 2·int(2.5σ+0.5)+1, untouched far away', () => {
    const w = 41;
    const m = { width: w, height: w, data: new Uint8Array(w * w) };
    m.data[20 * w + 20] = 255;
    const b = blurMask(m, 2); // kernel 11: radius 5
    expect(b.data[20 * w + 20]).toBeGreaterThan(0);
    expect(b.data[20 * w + 22]).toBe(b.data[20 * w + 18]);
    expect(b.data[20 * w + 26]).toBe(0);
    expect(b.data[0]).toBe(0);
    expect(blurMask(m, 0)).toBe(m);
  });

  it('bounding box with padding and aspect expansion', () => {
    const m = { width: 100, height: 80, data: new Uint8Array(100 * 80) };
    for (let y = 30; y < 40; y++) for (let x = 50; x < 70; x++) m.data[y * 100 + x] = 255;
    expect(maskBoundingBox(m, 4)).toEqual([46, 26, 74, 44]);
    expect(maskBoundingBox({ width: 2, height: 2, data: new Uint8Array(4) })).toBeNull();
    const [x1, y1, x2, y2] = expandCropRegion([46, 26, 74, 44], 64, 64, 100, 80);
    expect(x2 - x1).toBe(y2 - y1);
    expect(x1).toBeGreaterThanOrEqual(0);
    expect(y2).toBeLessThanOrEqual(80);
  });

  it('composite keeps the base exactly where the mask is 0', () => {
    const base = new Uint8Array([1, 2, 3, 255, 4, 5, 6, 255]);
    const top = new Uint8Array([200, 200, 200, 255, 200, 200, 200, 255]);
    const out = compositeWithMask(base, top, { width: 2, height: 1, data: new Uint8Array([0, 255]) });
    expect(Array.from(out)).toEqual([1, 2, 3, 255, 200, 200, 200, 255]);
  });
});
