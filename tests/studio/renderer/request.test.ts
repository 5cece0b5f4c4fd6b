import { describe, expect, it } from 'vitest';
import { buildGeneratePayload, type SettingsSnapshot } from '../../../src-renderer/src/lib/state/request.js';
import { GenerationSettings, SAMPLERS } from '../../../src-renderer/src/lib/state/generation-settings.svelte.js';
import { generationLimits, SAMPLER_NAMES } from '../../../src-main/shared/generation-limits.js';
import { generatePayloadSchema } from '../../../src-main/shared/contract.js';

const s: SettingsSnapshot = {
  prompt: 'a cat',
  negativePrompt: 'blurry',
  model: 'bundled:tiny-sd15',
  sampler: '',
  steps: 4,
  cfgScale: 7,
  seed: -1,
  strength: 0.6,
  maskBlur: 4,
  inpaintOnlyMasked: true,
  inpaintPadding: 16,
  batchCount: 2,
};
const png = new Uint8Array([137, 80, 78, 71]);

describe('generate payload', () => {
  it('text to image sends no image fields', () => {
    const p = buildGeneratePayload(s, { mode: 'txt2img', width: 64, height: 64 });
    expect(p).toMatchObject({ model: 'bundled:tiny-sd15', prompt: 'a cat', width: 64, height: 64, batchCount: 2, seed: -1 });
    expect(p.initImage).toBeUndefined();
    expect(p.mask).toBeUndefined();
    expect(p.strength).toBeUndefined();
    expect(p.sampler).toBeUndefined();
  });

  it('image to image sends the image and strength, no mask', () => {
    const p = buildGeneratePayload({ ...s, sampler: 'euler' }, { mode: 'img2img', width: 64, height: 64, initImage: png });
    expect(p.initImage).toBe(png);
    expect(p.strength).toBe(0.6);
    expect(p.mask).toBeUndefined();
    expect(p.sampler).toBe('euler');
  });

  it('inpainting sends the mask raster as raw pixels, and its options', () => {
    const mask = { width: 64, height: 64, data: new Uint8Array(64 * 64).fill(255) };
    const p = buildGeneratePayload(s, { mode: 'inpaint', width: 64, height: 64, initImage: png, mask });
    expect(p).toMatchObject({ maskBlur: 4, inpaintOnlyMasked: true, inpaintPadding: 16 });
    expect(p.mask).toEqual({ width: 64, height: 64, data: mask.data });
    expect(generatePayloadSchema.safeParse(p).success).toBe(true);
    expect(() => buildGeneratePayload(s, { mode: 'inpaint', width: 64, height: 64, initImage: png })).toThrow(/mask/);
  });

  it("reads the request contract's limits and samplers instead of keeping copies", () => {
    const p = buildGeneratePayload({ ...s, batchCount: 500, steps: 5000 }, { mode: 'txt2img', width: 64, height: 64 });
    expect(p.batchCount).toBe(500);
    expect(p.steps).toBe(generationLimits.steps.max);
    expect(buildGeneratePayload({ ...s, batchCount: 1e6 }, { mode: 'txt2img', width: 64, height: 64 }).batchCount).toBe(generationLimits.batchCount.max);
    expect(SAMPLERS).toEqual(['', ...SAMPLER_NAMES]);
  });

  it('seed: random, fixed, reuse last', () => {
    const g = new GenerationSettings();
    expect(g.requestSeed()).toBe(-1);
    g.seedMode = 'fixed';
    g.seed = '18446744073709551615';
    expect(g.requestSeed()).toBe('18446744073709551615');
    g.lastSeed = '42';
    g.seedMode = 'random';
    g.reuseLastSeed();
    expect([g.seedMode, g.requestSeed()]).toEqual(['fixed', '42']);
  });
});
