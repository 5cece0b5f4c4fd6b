// The pipeline on the real tiny ONNX models (tests/models/), through the public API.
import path from 'node:path';
import { mkdtemp, cp, rm } from 'node:fs/promises';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModel, type StableDiffusionModel } from '../../../src-main/engine/model/index.js';
import { generate, latentToRgba, type PipelineModel } from '../../../src-main/engine/pipeline/index.js';
import { readImageMetadata, decodeImage, blurMask, maskFromImage, scaleMask } from '../../../src-main/engine/image/index.js';
import { cpuMsPerCall } from '../../helpers/cpu-time.js';
import { repoRoot } from '../../helpers/shared.js';
import { makeRectMask, makeTestImage, rawRgb } from './helpers.js';

const VARIANTS = ['tiny-sd15', 'tiny-sd15-fp16', 'tiny-sd2-v', 'tiny-inpaint', 'tiny-lcm', 'tiny-turbo'] as const;
type Variant = (typeof VARIANTS)[number];
const models = new Map<Variant, StableDiffusionModel>();
const modelDir = (v: string) => path.join(repoRoot, 'tests/models', v);

/** The real model with a UNet call counter: the denoiser seam. */
function counted(m: StableDiffusionModel): PipelineModel & { unetCalls: number } {
  const w = {
    unetCalls: 0,
    info: m.info,
    tokenizer: m.tokenizer,
    encodeText: (ids: number[][]) => m.encodeText(ids),
    predictNoise: (a: Parameters<StableDiffusionModel['predictNoise']>[0]) => {
      w.unetCalls++;
      return m.predictNoise(a);
    },
    encodeImage: (p: Float32Array, h: number, wd: number) => m.encodeImage(p, h, wd),
    decodeLatents: (l: Float32Array, b: number, h: number, wd: number) => m.decodeLatents(l, b, h, wd),
  };
  return w;
}

const base = { prompt: 'a (small:1.2) house by a lake, evening', negativePrompt: 'ugly', width: 64, height: 64, steps: 5, seed: 1234 };

beforeAll(async () => {
  for (const v of VARIANTS) models.set(v, await openModel(modelDir(v)));
});
afterAll(async () => {
  for (const m of models.values()) await m.dispose();
});

describe('tiny models: txt2img', () => {
  for (const v of VARIANTS) {
    it(`${v} generates a PNG with metadata`, async () => {
      const m = counted(models.get(v)!);
      const cfg = v === 'tiny-turbo' ? 0 : v === 'tiny-lcm' ? 1.5 : 7;
      const steps = v === 'tiny-turbo' ? 1 : 4;
      const res = await generate(m, { ...base, cfgScale: cfg, steps, width: 64, height: 48 });
      expect(res).toHaveLength(1);
      expect(res[0]).toMatchObject({ width: 64, height: 48, seed: '1234' });
      const img = await rawRgb(res[0]!.png);
      expect(img).toMatchObject({ width: 64, height: 48 });
      // not a constant image
      expect(new Set(img.data).size).toBeGreaterThan(8);
      const meta = readImageMetadata(res[0]!.png);
      expect(meta.infotext).toMatchObject({ prompt: base.prompt, negativePrompt: base.negativePrompt, seed: '1234', cfgScale: cfg, model: v });
      expect(meta.request).toMatchObject({ prompt: base.prompt, seed: '1234', cfgScale: cfg });
      // tiny-inpaint (PLMS) adds one call; tiny-turbo has a fixed batch of 1 but cfg 0 needs no uncond pass.
      const info = models.get(v)!.info;
      const calls = info.schedulerClassName === 'PNDMScheduler' ? steps + 1 : steps;
      const perStep = cfg > 1 && !info.timestepCondDim && info.unetMaxBatch === 1 ? 2 : 1;
      expect(m.unetCalls).toBe(calls * perStep);
    });
  }

  it('tiny-turbo (fixed batch 1) with cfg 7: two UNet calls per step', async () => {
    const m = counted(models.get('tiny-turbo')!);
    await generate(m, { ...base, cfgScale: 7, steps: 3 });
    expect(m.unetCalls).toBe(6);
  });

  it("cfgMode 'sequential' runs CFG as two batch-1 calls and paints the same picture as one batch-2 call", async () => {
    const batched = counted(models.get('tiny-sd15')!);
    const sequential = counted(models.get('tiny-sd15')!);
    const req = { ...base, cfgScale: 7, steps: 3, sampler: 'euler' as const };
    const [a] = await generate(batched, req);
    const [b] = await generate(sequential, { ...req, cfgMode: 'sequential' });
    expect(batched.unetCalls).toBe(3);
    expect(sequential.unetCalls).toBe(6);
    const [ia, ib] = [await rawRgb(a!.png), await rawRgb(b!.png)];
    // Same math; batch-2 and batch-1 kernels may round differently, so allow a pixel level of difference.
    let maxDiff = 0;
    for (let i = 0; i < ia.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ia.data[i]! - ib.data[i]!));
    expect(maxDiff).toBeLessThanOrEqual(2);
  });

  it('same request and seed → byte-identical PNGs; other seeds differ (fp32, fp16, ancestral)', async () => {
    for (const v of ['tiny-sd15', 'tiny-sd15-fp16', 'tiny-turbo'] as const) {
      const req = { ...base, sampler: 'euler-ancestral' as const, cfgScale: 5, batchCount: 2 };
      const a = await generate(models.get(v)!, req);
      const b = await generate(models.get(v)!, req);
      expect(Buffer.from(a[0]!.png).equals(Buffer.from(b[0]!.png))).toBe(true);
      expect(Buffer.from(a[1]!.png).equals(Buffer.from(b[1]!.png))).toBe(true);
      expect(Buffer.from(a[0]!.png).equals(Buffer.from(a[1]!.png))).toBe(false);
      expect(a[1]!.seed).toBe('1235');
    }
  });

  it('every sampler runs on tiny-sd15 and tiny-sd2-v (v-prediction)', async () => {
    const { registeredSchedulerNames } = await import('../../../src-main/engine/schedulers/index.js');
    for (const v of ['tiny-sd15', 'tiny-sd2-v'] as const) {
      for (const sampler of registeredSchedulerNames()) {
        const res = await generate(models.get(v)!, { ...base, sampler, steps: 3 });
        expect(res[0]!.infotext).toContain('Steps: 3');
      }
    }
  });

  it('latent previews cost far less than a step (measured)', async () => {
    const previews: number[] = [];
    const [res] = await generate(models.get('tiny-sd15')!, { ...base, steps: 8, sampler: 'euler' }, { onPreview: (e) => previews.push(e.step) });
    const t = res!.timings;
    expect(previews).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Report: a latent preview (8×8 here) vs a tiny-model step.
    console.log(`[preview] tiny-sd15 64x64: step ${t.stepMs.toFixed(3)} ms, latent preview ${(t.previewMs * 1000).toFixed(1)} µs (${((100 * t.previewMs) / t.stepMs).toFixed(2)} % of a step)`);
    // The check compares the preview's CPU time (which a busy machine does not inflate) with the step's wall
    // time (which a busy machine can only make longer).
    const lat8 = new Float32Array(4 * 8 * 8).map((_, i) => Math.sin(i));
    expect(cpuMsPerCall(() => latentToRgba(lat8, 8, 8), 1000)).toBeLessThan(t.stepMs * 0.1);
    // A 512×512 request's preview (64×64 latent).
    const lat = new Float32Array(4 * 64 * 64).map((_, i) => Math.sin(i));
    const per = cpuMsPerCall(() => latentToRgba(lat, 64, 64), 50);
    console.log(`[preview] 64x64 latent (512x512 image) → RGB: ${(per * 1000).toFixed(1)} µs of CPU time`);
    expect(per).toBeLessThan(20);
  });
});

describe('tiny models: img2img and inpainting', () => {
  it('img2img on tiny-sd15 (sampled encoder) and tiny-sd2-v (latent_parameters)', async () => {
    const init = await makeTestImage(64, 64, 2);
    for (const v of ['tiny-sd15', 'tiny-sd2-v'] as const) {
      const m = counted(models.get(v)!);
      const res = await generate(m, { ...base, steps: 10, strength: 0.6, initImage: init, sampler: 'ddim' });
      expect(m.unetCalls).toBe(6);
      expect(res[0]!.infotext).toContain('Denoising strength: 0.6');
      const again = await generate(m, { ...base, steps: 10, strength: 0.6, initImage: init, sampler: 'ddim' });
      expect(Buffer.from(again[0]!.png).equals(Buffer.from(res[0]!.png))).toBe(true);
    }
  });

  it('strength so low that no step runs → init image unchanged (exact pixels)', async () => {
    const init = await makeTestImage(64, 64, 4);
    const m = counted(models.get('tiny-sd2-v')!);
    const res = await generate(m, { ...base, steps: 10, strength: 0.09, initImage: init });
    expect(m.unetCalls).toBe(0);
    expect(Buffer.from((await rawRgb(res[0]!.png)).data).equals(Buffer.from((await rawRgb(init)).data))).toBe(true);
  });

  for (const v of ['tiny-sd15', 'tiny-inpaint'] as const) {
    for (const onlyMasked of [false, true]) {
      it(`inpainting with ${v}${onlyMasked ? ' (only masked)' : ''}: pixels outside the feathered mask are identical`, async () => {
        const W = onlyMasked ? 96 : 64;
        const init = await makeTestImage(W, 64, 6);
        const maskPng = await makeRectMask(W, 64, 20, 12, 44, 36);
        const res = await generate(models.get(v)!, { ...base, initImage: init, mask: maskPng, strength: v === 'tiny-sd15' ? 0.8 : 1, maskBlur: 3, inpaintOnlyMasked: onlyMasked, inpaintPadding: 4 });
        const out = await rawRgb(res[0]!.png);
        const src = await rawRgb(init);
        expect(out.width).toBe(W);
        const feathered = blurMask(maskFromImage(await decodeImage(maskPng)), 3);
        const keep = onlyMasked ? feathered : scaleMask(feathered, 2);
        let changed = 0;
        for (let i = 0; i < W * 64; i++) {
          const same = out.data[i * 3] === src.data[i * 3] && out.data[i * 3 + 1] === src.data[i * 3 + 1] && out.data[i * 3 + 2] === src.data[i * 3 + 2];
          if (keep.data[i] === 0 && !same) throw new Error(`pixel ${i} outside the mask changed`);
          if (!same) changed++;
        }
        expect(changed).toBeGreaterThan(100);
      });
    }
  }
});

describe('tiny models: cancel and errors', () => {
  it('cancel stops within one UNet call and writes nothing', async () => {
    const m = counted(models.get('tiny-sd15')!);
    const ac = new AbortController();
    let at = -1;
    const err = await generate(m, { ...base, steps: 30, sampler: 'euler' }, {
      signal: ac.signal,
      onProgress: (e) => {
        if (e.step === 2) {
          at = m.unetCalls;
          ac.abort();
        }
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AbortError', code: 'cancelled' });
    expect(m.unetCalls).toBe(at);
  });

  it('missing model files → a clear ModelError', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ls-model-'));
    try {
      await cp(modelDir('tiny-sd15'), dir, { recursive: true });
      await rm(path.join(dir, 'unet'), { recursive: true });
      const err = (await openModel(dir).catch((e: unknown) => e)) as Error & { code?: string };
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(/unet/i);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a mask of another size → bad-mask; width not a multiple of 8 → invalid-request', async () => {
    const m = models.get('tiny-inpaint')!;
    await expect(generate(m, { ...base, initImage: await makeTestImage(64, 64), mask: await makeRectMask(64, 56, 0, 0, 8, 8) })).rejects.toMatchObject({ code: 'bad-mask' });
    await expect(generate(m, { ...base, height: 60 })).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringContaining('height must be a multiple of 8 (got 60; use 56 or 64)') });
  });
});
