// Previews show the whole picture as it will be: text-to-image and image-to-image frames stand for the
// full canvas; inpainting frames are composited at the canvas size (the init image as it is outside the
// mask, the preview inside it, pasted back into the crop's place for only-masked inpainting).
import { describe, expect, it } from 'vitest';
import { generate, type PreviewEvent } from '../../../src-main/engine/pipeline/index.js';
import { createFakeModel } from './fake-model.js';
import { makeRectMask, makeTestImage, rawRgb } from './helpers.js';

const base = { prompt: 'a red fox, forest', width: 64, height: 64, steps: 4, seed: 7, sampler: 'euler', maskBlur: 0 } as const;

/** RGB of pixel (x, y) of an RGBA frame. */
function rgbAt(e: PreviewEvent, x: number, y: number): number[] {
  const i = (y * e.width + x) * 4;
  return Array.from(e.rgba.subarray(i, i + 3));
}

function initRgbAt(init: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const i = (y * init.width + x) * 3;
  return Array.from(init.data.subarray(i, i + 3));
}

describe('preview frames cover the whole picture', () => {
  it('text-to-image and image-to-image: latent-size frames that stand for the full picture', async () => {
    const previews: PreviewEvent[] = [];
    await generate(createFakeModel(), base, { onPreview: (e) => previews.push(e) });
    expect(previews[0]).toMatchObject({ kind: 'latent', width: 8, height: 8, pictureWidth: 64, pictureHeight: 64 });

    const img2img: PreviewEvent[] = [];
    await generate(createFakeModel(), { ...base, initImage: await makeTestImage(64, 64), strength: 0.75 }, { onPreview: (e) => img2img.push(e) });
    expect(img2img[0]).toMatchObject({ kind: 'latent', width: 8, height: 8, pictureWidth: 64, pictureHeight: 64 });
  });

  it('inpainting: the init image as it is outside the mask, the preview inside, latent and decoded frames', async () => {
    const initPng = await makeTestImage(64, 64, 3);
    const init = await rawRgb(initPng);
    const previews: PreviewEvent[] = [];
    await generate(
      createFakeModel(),
      { ...base, initImage: initPng, mask: await makeRectMask(64, 64, 16, 16, 48, 48), strength: 1, decodePreviewEvery: 2 },
      { onPreview: (e) => previews.push(e) },
    );
    expect(previews.map((p) => p.kind)).toEqual(['latent', 'latent', 'decoded', 'latent', 'latent']);
    for (const p of previews) {
      expect(p).toMatchObject({ width: 64, height: 64, pictureWidth: 64, pictureHeight: 64 });
      expect(p.rgba).toHaveLength(64 * 64 * 4);
      for (const [x, y] of [[0, 0], [63, 0], [5, 40], [63, 63], [10, 10]] as const) expect(rgbAt(p, x, y)).toEqual(initRgbAt(init, x, y));
    }
    // Inside the mask the frame shows the generation, not the init image.
    const inside = previews.filter((p) => p.kind === 'latent').map((p) => rgbAt(p, 32, 32));
    expect(inside.some((rgb) => rgb.join() !== initRgbAt(init, 32, 32).join())).toBe(true);
  });

  it('only-masked inpainting: the crop pasted back into its place on the init image, at the init image size', async () => {
    const initPng = await makeTestImage(128, 96, 5);
    const init = await rawRgb(initPng);
    const previews: PreviewEvent[] = [];
    const [res] = await generate(
      createFakeModel(),
      { ...base, initImage: initPng, mask: await makeRectMask(128, 96, 80, 20, 100, 40), strength: 1, inpaintOnlyMasked: true, inpaintPadding: 8 },
      { onPreview: (e) => previews.push(e) },
    );
    expect(res).toMatchObject({ width: 128, height: 96 });
    expect(previews).toHaveLength(4);
    for (const p of previews) {
      expect(p).toMatchObject({ kind: 'latent', width: 128, height: 96, pictureWidth: 128, pictureHeight: 96 });
      for (const [x, y] of [[0, 0], [127, 95], [10, 50], [60, 30], [90, 60]] as const) expect(rgbAt(p, x, y)).toEqual(initRgbAt(init, x, y));
    }
    // The masked area (80..100 × 20..40) shows the generated preview, pasted where the final picture repaints.
    const last = previews.at(-1)!;
    let changed = 0;
    for (let y = 22; y < 38; y++) {
      for (let x = 82; x < 98; x++) {
        const got = rgbAt(last, x, y);
        const before = initRgbAt(init, x, y);
        for (let c = 0; c < 3; c++) changed += Number(got[c] !== before[c]);
      }
    }
    expect(changed).toBeGreaterThan(16 * 16 * 3 * 0.5);
  });
});
