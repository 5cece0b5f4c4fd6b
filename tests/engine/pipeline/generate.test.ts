import { describe, expect, it } from 'vitest';
import { generationLimits } from '../../../src-main/shared/generate-request.js';
import {
  generate,
  generateRequestSchema,
  guidanceScaleEmbedding,
  parseGenerateRequest,
  resolveRequestSize,
  runGeneration,
  SCHEDULER_NAMES,
  type GenerateRequest,
  type PreviewEvent,
  type ProgressEvent,
} from '../../../src-main/engine/pipeline/index.js';
import { readImageMetadata, blurMask, maskFromImage, decodeImage, scaleMask } from '../../../src-main/engine/image/index.js';
import { registeredSchedulerNames } from '../../../src-main/engine/schedulers/index.js';
import { TorchGenerator } from '../../../src-main/engine/random/index.js';
import { createFakeModel } from './fake-model.js';
import { makeRectMask, makeTestImage, rawRgb } from './helpers.js';

const small = { prompt: 'a red fox, forest', negativePrompt: 'blurry', width: 64, height: 64, steps: 6, seed: 42 };

describe('generate (fake model)', () => {
  it('txt2img: one batch-2 CFG call per step, prompt encoded once per request, PNG with metadata', async () => {
    const m = createFakeModel();
    const res = await generate(m, { ...small, batchCount: 3, sampler: 'euler' });
    expect(res).toHaveLength(3);
    expect(res.map((r) => r.seed)).toEqual(['42', '43', '44']);
    expect(m.calls.encodeText).toHaveLength(2); // cond + uncond, once for the whole batch
    expect(m.calls.unet).toHaveLength(3 * 6);
    expect(m.calls.unet.every((c) => c.batch === 2 && c.sequenceLength === 77)).toBe(true);
    const meta = readImageMetadata(res[0]!.png);
    expect(meta.parameters).toBe('a red fox, forest\nNegative prompt: blurry\nSteps: 6, Sampler: Euler, CFG scale: 7, Seed: 42, Size: 64x64, Model: fake');
    expect(meta.infotext).toMatchObject({ prompt: 'a red fox, forest', negativePrompt: 'blurry', steps: 6, sampler: 'euler', cfgScale: 7, seed: '42', width: 64, height: 64 });
    expect(meta.request).toMatchObject({ prompt: 'a red fox, forest', seed: '42', sampler: 'euler', batchCount: 1 });
    expect(res[1]!.infotext).toContain('Seed: 43');
  });

  it('fixed-batch-1 UNet: two calls per step; cfg ≤ 1: one call and no negative prompt encode', async () => {
    const m1 = createFakeModel({ unetMaxBatch: 1 });
    await generate(m1, { ...small, sampler: 'ddim' });
    expect(m1.calls.unet).toHaveLength(12);
    expect(m1.calls.unet.every((c) => c.batch === 1)).toBe(true);
    const m2 = createFakeModel();
    await generate(m2, { ...small, cfgScale: 1, sampler: 'ddim' });
    expect(m2.calls.unet).toHaveLength(6);
    expect(m2.calls.encodeText).toHaveLength(1);
    const m3 = createFakeModel();
    await generate(m3, { ...small, cfgScale: 0, sampler: 'euler' });
    expect(m3.calls.unet.every((c) => c.batch === 1)).toBe(true);
  });

  it('initial latents are TorchGenerator(seed).randn × initNoiseSigma (DDIM: σ=1 → the UNet sees the randn itself)', async () => {
    const m = createFakeModel();
    await generate(m, { ...small, cfgScale: 1, sampler: 'ddim', seed: '18446744073709551615' });
    const expected = new TorchGenerator(18446744073709551615n).randn([1, 4, 8, 8]);
    expect(Array.from(m.calls.unet[0]!.sample)).toEqual(Array.from(expected));
  });

  it('batch seeds count up and wrap at 2^64; DDIM eta lands in the infotext', async () => {
    const res = await generate(createFakeModel(), { ...small, steps: 2, seed: '18446744073709551615', batchCount: 2, sampler: 'ddim', eta: 0.5 });
    expect(res.map((r) => r.seed)).toEqual(['18446744073709551615', '0']);
    expect(res[0]!.infotext).toContain('Seed: 18446744073709551615, Size: 64x64, Model: fake, Eta DDIM: 0.5');
  });

  it('long prompts: 77·k sequence, the negative padded to the same chunk count', async () => {
    const m = createFakeModel();
    const prompt = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
    await generate(m, { ...small, prompt, steps: 1, sampler: 'euler' });
    expect(m.calls.encodeText[0]).toHaveLength(2);
    expect(m.calls.encodeText[1]).toHaveLength(2);
    expect(m.calls.unet[0]!.sequenceLength).toBe(154);
    expect(m.calls.unet[0]!.encoderHiddenStates.length).toBe(2 * 154 * 8);
  });

  it('same request and seed → byte-identical PNGs; different seeds differ', async () => {
    const a = await generate(createFakeModel(), { ...small, sampler: 'euler-ancestral' });
    const b = await generate(createFakeModel(), { ...small, sampler: 'euler-ancestral' });
    const c = await generate(createFakeModel(), { ...small, sampler: 'euler-ancestral', seed: 43 });
    expect(Buffer.from(a[0]!.png).equals(Buffer.from(b[0]!.png))).toBe(true);
    expect(Buffer.from(a[0]!.png).equals(Buffer.from(c[0]!.png))).toBe(false);
  });

  it('LCM: no CFG batch, timestep_cond = guidance embedding of w = cfg − 1', async () => {
    const m = createFakeModel({ timestepCondDim: 256, schedulerConfig: { _class_name: 'LCMScheduler', beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, timestep_spacing: 'leading', steps_offset: 1, set_alpha_to_one: true } });
    await generate(m, { ...small, steps: 4, cfgScale: 8.5 });
    expect(m.calls.unet).toHaveLength(4);
    expect(m.calls.unet.map((c) => c.timestep)).toEqual([999, 759, 499, 259]);
    const tc = m.calls.unet[0]!.timestepCond!;
    expect(tc).toHaveLength(256);
    expect(Array.from(tc)).toEqual(Array.from(guidanceScaleEmbedding(7.5, 256)));
    // emb[0] = sin(7500 · 1), emb[128] = cos(7500)
    expect(tc[0]).toBeCloseTo(Math.sin(7500), 3);
    expect(tc[128]).toBeCloseTo(Math.cos(7500), 3);
    expect(m.calls.encodeText).toHaveLength(1);
  });

  it('progress every step, latent previews at h/8 × w/8, optional decoded previews; preview cost is tiny', async () => {
    const m = createFakeModel();
    const progress: ProgressEvent[] = [];
    const previews: PreviewEvent[] = [];
    const [res] = await generate(m, { ...small, sampler: 'pndm', decodePreviewEvery: 3 }, { onProgress: (e) => progress.push(e), onPreview: (e) => previews.push(e) });
    // PNDM (PLMS) makes N + 1 model calls; progress counts model calls.
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(progress.every((p) => p.totalSteps === 7 && p.elapsedMs >= 0 && p.etaMs >= 0)).toBe(true);
    expect(progress.at(-1)!.etaMs).toBe(0);
    const latent = previews.filter((p) => p.kind === 'latent');
    expect(latent).toHaveLength(7);
    expect(latent[0]).toMatchObject({ width: 8, height: 8 });
    expect(latent[0]!.rgba).toHaveLength(8 * 8 * 4);
    const decoded = previews.filter((p) => p.kind === 'decoded');
    expect(decoded.map((p) => p.step)).toEqual([3, 6]);
    expect(decoded[0]).toMatchObject({ width: 64, height: 64 });
    const t = res!.timings;
    expect(t).toMatchObject({ steps: 7, unetCalls: 7, previews: 7, decodedPreviews: 2 }); // their cost is checked in CPU time by tiny-models.test.ts
  });

  it('previewEvery 0 turns latent previews off', async () => {
    const previews: PreviewEvent[] = [];
    await generate(createFakeModel(), { ...small, previewEvery: 0 }, { onPreview: (e) => previews.push(e) });
    expect(previews).toHaveLength(0);
  });

  it('cancel: stops before the next UNet call, skips the VAE decode, rejects with AbortError/cancelled', async () => {
    const m = createFakeModel();
    const ac = new AbortController();
    let callsAtAbort = -1;
    const err = await generate(m, { ...small, steps: 20 }, {
      signal: ac.signal,
      onProgress: (e) => {
        if (e.step === 3) {
          callsAtAbort = m.calls.unet.length;
          ac.abort();
        }
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('AbortError');
    expect((err as { code?: string }).code).toBe('cancelled');
    expect(callsAtAbort).toBe(3);
    expect(m.calls.unet.length).toBe(callsAtAbort);
    expect(m.calls.decode).toHaveLength(0);
    // already aborted → nothing runs
    const m2 = createFakeModel();
    await expect(generate(m2, small, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError', code: 'cancelled' });
    expect(m2.calls.unet).toHaveLength(0);
  });

  it('non-finite latents (absurd cfg) fail with a clear error', async () => {
    const m = createFakeModel({ outputScale: 1e30 });
    await expect(generate(m, { ...small, cfgScale: 1e20 })).rejects.toMatchObject({ code: 'non-finite', message: expect.stringMatching(/NaN|infinite/) });
  });

  it('bad inputs give clear errors', async () => {
    const m = createFakeModel();
    // Requests from IPC or JSON arrive untyped.
    const untyped = (r: object) => r as GenerateRequest;
    await expect(generate(m, { ...small, width: 500 })).rejects.toThrow(/width must be a multiple of 8 \(got 500; use 496 or 504\)/);
    await expect(generate(m, untyped({ ...small, sampler: 'euler_a' }))).rejects.toThrow(/unknown sampler "euler_a"; expected one of: ddpm, ddim/);
    await expect(generate(m, { ...small, cfgScale: Number.NaN })).rejects.toThrow(/cfgScale must be a finite number/);
    await expect(generate(m, { ...small, seed: '18446744073709551616' })).rejects.toThrow(/seed must be at most 2\^64-1/);
    await expect(generate(m, { ...small, steps: 0 })).rejects.toThrow(/steps must be at least 1/);
    await expect(generate(m, untyped({ ...small, promt: 'typo' }))).rejects.toThrow(/unknown field\(s\) "promt"/);
    const init = await makeTestImage(64, 64);
    await expect(generate(m, { ...small, initImage: init, mask: await makeRectMask(32, 32, 0, 0, 8, 8) })).rejects.toMatchObject({
      code: 'bad-mask',
      message: 'The mask is 32x32 but the init image is 64x64: they must be the same size.',
    });
    await expect(generate(m, { ...small, mask: await makeRectMask(64, 64, 0, 0, 8, 8) })).rejects.toThrow(/mask: a mask needs an initImage/);
    await expect(generate(m, { ...small, initImage: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({ code: 'bad-image' });
    await expect(generate(createFakeModel({ vaeEncoder: null }), { ...small, initImage: init })).rejects.toMatchObject({ code: 'unsupported' });
    expect(m.calls.unet).toHaveLength(0);
  });

  it('prompts have a generous but finite length', async () => {
    const m = createFakeModel();
    const limit = generationLimits.promptLength.max;
    expect(generateRequestSchema.safeParse({ prompt: 'x'.repeat(limit) }).success).toBe(true);
    await expect(generate(m, { ...small, prompt: 'x'.repeat(limit + 1) })).rejects.toThrow(new RegExp(`prompt: prompt is too long \\(${limit} characters at most\\)`));
    await expect(generate(m, { ...small, negativePrompt: 'x'.repeat(2_000_000) })).rejects.toMatchObject({ code: 'invalid-request' });
  });

  it('onImage: each image of a batch is handed over as soon as it is done', async () => {
    const m = createFakeModel();
    const seen: string[] = [];
    const results = await generate(m, { ...small, sampler: 'euler', steps: 2, batchCount: 3 }, {
      onProgress: (e) => seen.push(`step:${e.image}:${e.step}`),
      onImage: (r, i) => void seen.push(`image:${i}:${r.seed}`),
    });
    expect(seen).toEqual(['step:0:1', 'step:0:2', 'image:0:42', 'step:1:1', 'step:1:2', 'image:1:43', 'step:2:1', 'step:2:2', 'image:2:44']);
    expect(results.map((r) => r.seed)).toEqual(['42', '43', '44']);
  });

  it('schema: defaults, seed forms', () => {
    const r = parseGenerateRequest({});
    expect(r).toMatchObject({ prompt: '', steps: 20, cfgScale: 7, batchCount: 1, strength: 0.75, maskBlur: 4, initImageFit: 'crop' });
    // No size: the model's native size (unet sample_size × 8, as diffusers), else 512.
    expect(r.width).toBeUndefined();
    expect(resolveRequestSize(r, 64)).toMatchObject({ width: 64, height: 64 });
    expect(resolveRequestSize(r, undefined)).toMatchObject({ width: 512, height: 512 });
    expect(resolveRequestSize({ ...r, width: 96, height: 32 }, 64)).toMatchObject({ width: 96, height: 32 });
    expect(generateRequestSchema.safeParse({ seed: '12345678901234567890' }).success).toBe(true);
    expect(generateRequestSchema.safeParse({ seed: 1.5 }).success).toBe(false);
    expect(generateRequestSchema.safeParse({ model: '/m', backend: 'cpu', threads: 2 }).success).toBe(true);
  });
});

describe('results, one at a time (fake model)', () => {
  it('onImage gets each image when it is finished, and the pipeline waits for it before the next one', async () => {
    const m = createFakeModel();
    const delivered: { index: number; seed: string; unetCallsThen: number; unetCallsAfterAwait: number }[] = [];
    const res = await generate(m, { ...small, batchCount: 3, sampler: 'euler' }, {
      onImage: async (result, index) => {
        const unetCallsThen = m.calls.unet.length;
        // Give a pipeline that did not wait every chance to start the next image.
        await new Promise<void>((resolve) => setImmediate(resolve));
        delivered.push({ index, seed: result.seed, unetCallsThen, unetCallsAfterAwait: m.calls.unet.length });
      },
    });
    expect(delivered).toEqual([
      { index: 0, seed: '42', unetCallsThen: 6, unetCallsAfterAwait: 6 },
      { index: 1, seed: '43', unetCallsThen: 12, unetCallsAfterAwait: 12 },
      { index: 2, seed: '44', unetCallsThen: 18, unetCallsAfterAwait: 18 },
    ]);
    expect(res.map((r) => r.seed)).toEqual(['42', '43', '44']);
  });

  it('cancelled during image 3 of 3: images 1 and 2 were already delivered; the call still rejects', async () => {
    const m = createFakeModel();
    const ac = new AbortController();
    const delivered: Uint8Array[] = [];
    const err = await generate(m, { ...small, batchCount: 3, sampler: 'euler' }, {
      signal: ac.signal,
      onImage: (result) => void delivered.push(result.png),
      onProgress: (e) => {
        if (e.image === 2 && e.step === 2) ac.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AbortError', code: 'cancelled' });
    expect(delivered).toHaveLength(2);
    const whole = await generate(createFakeModel(), { ...small, batchCount: 2, sampler: 'euler' });
    delivered.forEach((png, i) => expect(Buffer.from(png).equals(Buffer.from(whole[i]!.png))).toBe(true));
  });

  it('every result carries its own timings', async () => {
    const m = createFakeModel({ unetMaxBatch: 1 });
    const res = await generate(m, { ...small, batchCount: 2, sampler: 'euler', decodePreviewEvery: 2 }, { onPreview: () => undefined });
    for (const r of res) {
      expect(r.timings).toMatchObject({ steps: 6, unetCalls: 12, previews: 6, decodedPreviews: 2 });
      const t = r.timings;
      for (const v of Object.values(t)) expect(v).toBeGreaterThanOrEqual(0);
      expect(t.stepMs).toBeCloseTo(t.denoiseMs / 6, 9);
      // Disjoint parts of one interval (1e-6 ms: float rounding of the sums).
      expect(t.imageMs).toBeGreaterThanOrEqual(t.prepareLatentsMs + t.denoiseMs + t.decodeMs + t.outputMs - 1e-6);
      expect(t.totalMs).toBeGreaterThanOrEqual(t.imageMs + t.encodePromptMs - 1e-6);
    }
    // The prompt is encoded once per request: both images report that one time.
    expect(res[1]!.timings.encodePromptMs).toBe(res[0]!.timings.encodePromptMs);
    expect(res[1]!.timings.totalMs).toBeGreaterThanOrEqual(res[0]!.timings.totalMs + res[1]!.timings.imageMs - 1e-6);
    expect(res[0]!.timings.prepareImageMs).toBeLessThan(res[0]!.timings.totalMs);
  });

  it('runGeneration takes an already parsed request and paints the same bytes as generate', async () => {
    const req = { ...small, sampler: 'euler-ancestral' as const, batchCount: 2 };
    const a = await generate(createFakeModel(), req);
    const b = await runGeneration(createFakeModel(), parseGenerateRequest(req));
    expect(b.map((r) => Buffer.from(r.png).toString('base64'))).toEqual(a.map((r) => Buffer.from(r.png).toString('base64')));
  });
});

describe('img2img and inpainting (fake model)', () => {
  it('img2img runs int(steps·strength) steps from the noised init latent', async () => {
    const m = createFakeModel();
    const init = await makeTestImage(64, 64);
    const res = await generate(m, { ...small, steps: 10, strength: 0.5, initImage: init, sampler: 'ddim', cfgScale: 1 });
    expect(m.calls.unet).toHaveLength(5);
    expect(m.calls.encodeImage).toBe(1);
    expect(res[0]!.infotext).toContain('Denoising strength: 0.5');
  });

  it('strength so low that no step runs → the init image unchanged, exact pixels', async () => {
    const m = createFakeModel();
    const init = await makeTestImage(64, 64);
    const res = await generate(m, { ...small, steps: 10, strength: 0.05, initImage: init, sampler: 'euler' });
    expect(m.calls.unet).toHaveLength(0);
    const out = await rawRgb(res[0]!.png);
    const src = await rawRgb(init);
    expect(Buffer.from(out.data).equals(Buffer.from(src.data))).toBe(true);
  });

  it('init image of another size is fitted by the explicit rule', async () => {
    const init = await makeTestImage(96, 64);
    for (const fit of ['crop', 'resize', 'fill'] as const) {
      const res = await generate(createFakeModel(), { ...small, initImage: init, strength: 0.01, initImageFit: fit });
      expect(res[0]).toMatchObject({ width: 64, height: 64 });
    }
  });

  for (const nine of [false, true]) {
    it(`inpainting (${nine ? '9-channel UNet' : 'legacy latent blend'}): every pixel outside the feathered mask is the init pixel`, async () => {
      const m = createFakeModel({ unetInChannels: nine ? 9 : 4 });
      const init = await makeTestImage(64, 64, 3);
      const maskPng = await makeRectMask(64, 64, 16, 16, 40, 40);
      const res = await generate(m, { ...small, initImage: init, mask: maskPng, strength: 1, maskBlur: 2, sampler: 'euler' });
      if (nine) expect(m.calls.unet[0]!.sample.length).toBe(2 * 9 * 8 * 8);
      const out = await rawRgb(res[0]!.png);
      const src = await rawRgb(init);
      const overlay = scaleMask(blurMask(maskFromImage(await decodeImage(maskPng)), 2), 2);
      let outside = 0;
      let changedInside = 0;
      for (let i = 0; i < 64 * 64; i++) {
        const same = out.data[i * 3] === src.data[i * 3] && out.data[i * 3 + 1] === src.data[i * 3 + 1] && out.data[i * 3 + 2] === src.data[i * 3 + 2];
        if (overlay.data[i] === 0) {
          outside++;
          expect(same).toBe(true);
        } else if (!same) changedInside++;
      }
      expect(outside).toBeGreaterThan(2500);
      expect(changedInside).toBeGreaterThan(100);
      expect(res[0]!.infotext).toContain('Mask blur: 2');
    });
  }

  it('raw pixels (the studio canvas: RGBA init, one-byte mask) paint exactly what the same PNG files paint', async () => {
    const init = await makeTestImage(64, 64, 5);
    const maskPng = await makeRectMask(64, 64, 8, 8, 48, 40);
    const rgb = await rawRgb(init);
    const rgba = new Uint8Array(64 * 64 * 4);
    for (let i = 0; i < 64 * 64; i++) rgba.set([rgb.data[i * 3]!, rgb.data[i * 3 + 1]!, rgb.data[i * 3 + 2]!, 255], i * 4);
    const maskGray = (await rawRgb(maskPng)).data.filter((_, i) => i % 3 === 0);
    const request = { ...small, strength: 0.8, maskBlur: 3, sampler: 'euler' as const };
    const fromFiles = await generate(createFakeModel(), { ...request, initImage: init, mask: maskPng });
    const fromPixels = await generate(createFakeModel(), {
      ...request,
      initImage: { width: 64, height: 64, data: rgba },
      mask: { width: 64, height: 64, data: maskGray },
    });
    expect(Buffer.from((await rawRgb(fromPixels[0]!.png)).data).equals(Buffer.from((await rawRgb(fromFiles[0]!.png)).data))).toBe(true);
    expect(fromPixels[0]!.request.mask).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: 64 * 64 });
    await expect(generate(createFakeModel(), { ...request, initImage: init, mask: { width: 64, height: 64, data: new Uint8Array(100) } })).rejects.toThrow(
      /mask has 100 bytes of pixels, expected 4096 or 16384 for 64x64/,
    );
  });

  it('inpaint only masked: generates the crop at full request size and pastes it back at the init size', async () => {
    const m = createFakeModel({ unetInChannels: 9 });
    const init = await makeTestImage(128, 96, 5);
    const maskPng = await makeRectMask(128, 96, 60, 40, 76, 56);
    const res = await generate(m, { ...small, initImage: init, mask: maskPng, inpaintOnlyMasked: true, inpaintPadding: 8, maskBlur: 1, strength: 1 });
    expect(res[0]).toMatchObject({ width: 128, height: 96 });
    expect(m.calls.unet[0]!.latentWidth).toBe(8);
    const out = await rawRgb(res[0]!.png);
    const src = await rawRgb(init);
    const feathered = blurMask(maskFromImage(await decodeImage(maskPng)), 1);
    let changed = 0;
    for (let i = 0; i < 128 * 96; i++) {
      const same = out.data[i * 3] === src.data[i * 3] && out.data[i * 3 + 1] === src.data[i * 3 + 1] && out.data[i * 3 + 2] === src.data[i * 3 + 2];
      if (feathered.data[i] === 0) expect(same).toBe(true);
      else if (!same) changed++;
    }
    expect(changed).toBeGreaterThan(50);
    expect(res[0]!.infotext).toContain('Inpaint area: Only masked, Masked area padding: 8');
  });
});

describe('oracle denoiser: every sampler ends at the known clean latent', () => {
  const h = 8;
  const w = 8;
  const x0 = new TorchGenerator(7).randn([1, 4, h, w]);
  for (let i = 0; i < x0.length; i++) x0[i] = x0[i]! * 0.8;
  const registered = new Set(registeredSchedulerNames());
  const cases: [string, boolean][] = SCHEDULER_NAMES.flatMap((s) => [[s, false], [s, true]] as [string, boolean][]);
  for (const [sampler, v] of cases) {
    it.skipIf(!registered.has(sampler as never))(`${sampler}${v ? ' (v_prediction)' : ''}`, async () => {
      const m = createFakeModel({ oracleX0: () => x0, vPrediction: v, ...(sampler === 'lcm' ? { timestepCondDim: 32 } : {}) });
      await generate(m, { prompt: 'x', width: 64, height: 64, steps: sampler === 'lcm' ? 4 : 20, seed: 3, sampler: sampler as never, cfgScale: 5 });
      const final = m.calls.decode.at(-1)!.latents.map((v2) => v2 * 0.18215);
      let maxErr = 0;
      for (let i = 0; i < x0.length; i++) maxErr = Math.max(maxErr, Math.abs(final[i]! - x0[i]!));
      // ᾱ-space samplers stop at ᾱ_0 (√(1−ᾱ_0) ≈ 0.029 of noise left, as diffusers); σ-space ones at σ = 0.
      expect(maxErr).toBeLessThan(0.12);
    });
  }
});
