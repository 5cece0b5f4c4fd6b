// The memory guard: what it estimates, what it chooses for a given amount of memory, and that a job it
// admits stays within it while one it refuses never starts.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModel, type StableDiffusionModel } from '../../../src-main/engine/model/index.js';
import { memoryFactsFrom, SD15_MEMORY_FACTS } from '../../../src-main/engine/model/memory.js';
import { estimateStages, jobPeak, parseBytes, planMemory, type JobShape } from '../../../src-main/engine/pipeline/memory-guard.js';
import { generate, PipelineError, type PipelineModel } from '../../../src-main/engine/pipeline/index.js';
import { repoRoot } from '../../helpers/shared.js';
import { makeTestImage, rawRgb } from './helpers.js';

const pixels = async (png: Uint8Array) => Buffer.from((await rawRgb(png)).data);

const tinyDir = path.join(repoRoot, 'tests/models/tiny-sd15');
const config = (c: string) => JSON.parse(readFileSync(path.join(tinyDir, c, 'config.json'), 'utf8')) as Record<string, unknown>;
const tinyFacts = memoryFactsFrom(config('unet'), config('vae_decoder'));
const peak = (job: JobShape, tiled: boolean) => jobPeak(estimateStages(tinyFacts, job, tiled));

describe('memory facts', () => {
  it('reads attention levels, heads and VAE tile size from the configs', () => {
    expect(tinyFacts).toEqual({ unetChannels: [8, 16], unetAttention: [{ downscale: 1, heads: 2 }], vaeChannels: [8, 16, 16, 16], vaeSampleSize: 64 });
    const sdxl = memoryFactsFrom(
      { block_out_channels: [320, 640, 1280], attention_head_dim: [5, 10, 20], down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'] },
      { block_out_channels: [128, 256, 512, 512], sample_size: 1024 },
    );
    expect(sdxl.unetAttention).toEqual([{ downscale: 2, heads: 10 }, { downscale: 4, heads: 20 }]);
    expect(sdxl.vaeSampleSize).toBe(1024);
    expect(memoryFactsFrom(null, null)).toEqual(SD15_MEMORY_FACTS);
  });

  it('parses LATENT_STUDIO_MEMORY_LIMIT values', () => {
    expect(parseBytes('4G')).toBe(4 * 2 ** 30);
    expect(parseBytes('512MiB')).toBe(512 * 2 ** 20);
    expect(parseBytes('1000')).toBe(1000);
    expect(parseBytes('lots')).toBeNull();
  });
});

describe('planMemory chooses by the memory it is given', () => {
  const job: JobShape = { width: 512, height: 512, cfg: 'batch', encodes: 1 };
  const untiled = peak(job, false);
  const tiled = peak(job, true);
  const sequential = peak({ ...job, cfg: 'sequential' }, true);
  it('the options get cheaper in the order tried', () => {
    expect(tiled).toBeLessThan(untiled);
    expect(sequential).toBeLessThan(tiled);
  });
  it('runs as asked when it fits', () => {
    expect(planMemory(tinyFacts, job, untiled)).toMatchObject({ vaeTiling: false, sequentialCfg: false, peakBytes: untiled });
  });
  it('tiles the VAE when only that fits', () => {
    expect(planMemory(tinyFacts, job, untiled - 1)).toMatchObject({ vaeTiling: true, sequentialCfg: false, peakBytes: tiled });
  });
  it('also runs guidance as two batch-1 calls when only that fits', () => {
    expect(planMemory(tinyFacts, job, tiled - 1)).toMatchObject({ vaeTiling: true, sequentialCfg: true, peakBytes: sequential });
  });
  it('refuses, naming a size of the same aspect ratio that fits', () => {
    const wide: JobShape = { width: 1024, height: 512, cfg: 'batch', encodes: 1 };
    const budget = peak({ ...wide, cfg: 'sequential' }, true) - 1;
    let error: unknown;
    try {
      planMemory(tinyFacts, wide, budget);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PipelineError);
    expect((error as PipelineError).code).toBe('too-large');
    const m = /1024×512 needs about .* UNet's attention.* (\d+)×(\d+) fits/.exec((error as Error).message);
    expect(m, (error as Error).message).not.toBeNull();
    const [w, h] = [Number(m![1]), Number(m![2])];
    expect(w / h).toBe(2);
    expect(() => planMemory(tinyFacts, { ...wide, width: w, height: h }, budget)).not.toThrow();
    expect(() => planMemory(tinyFacts, { ...wide, width: w + 64, height: h + 32 }, budget)).toThrow(PipelineError);
  });
});

describe('the plan in a real generation (tiny-sd15)', () => {
  let model: StableDiffusionModel;
  let calls = 0;
  let counted: PipelineModel;
  beforeAll(async () => {
    model = await openModel(tinyDir);
    counted = {
      info: model.info,
      tokenizer: model.tokenizer,
      encodeText: (ids) => model.encodeText(ids),
      predictNoise: (a) => (calls++, model.predictNoise(a)),
      encodeImage: (p, h, w) => model.encodeImage(p, h, w),
      decodeLatents: (l, b, h, w) => model.decodeLatents(l, b, h, w),
    };
  });
  afterAll(async () => model.dispose());

  const request = async () => ({ prompt: 'a lake', width: 128, height: 96, steps: 2, strength: 0.75, cfgScale: 7, seed: 7, sampler: 'euler' as const, initImage: await makeTestImage(128, 96) });
  const job: JobShape = { width: 128, height: 96, cfg: 'batch', encodes: 1 };

  it('with room: untiled, batch-2 guidance, the same picture as before', async () => {
    calls = 0;
    const [plain] = await generate(counted, await request(), { memoryLimitBytes: peak(job, false) });
    expect(plain!.memory).toMatchObject({ vaeTiling: false, sequentialCfg: false });
    expect(calls).toBe(1);
    const [roomy] = await generate(counted, await request(), { memoryLimitBytes: 64 * 2 ** 30 });
    expect(Buffer.from(roomy!.png).equals(Buffer.from(plain!.png))).toBe(true);
  });

  it('tight: tiled VAE and sequential guidance, reported, and the picture of that same choice made by hand', async () => {
    calls = 0;
    const [forced] = await generate(counted, await request(), { memoryLimitBytes: peak(job, true) - 1 });
    expect(forced!.memory).toMatchObject({ vaeTiling: true, sequentialCfg: true });
    expect(calls).toBe(2);
    const [byHand] = await generate(counted, { ...(await request()), cfgMode: 'sequential' }, { memoryLimitBytes: peak({ ...job, cfg: 'sequential' }, true) });
    expect(byHand!.memory).toMatchObject({ vaeTiling: true, sequentialCfg: false });
    // (the PNGs differ in their stored request: cfgMode)
    expect((await pixels(forced!.png)).equals(await pixels(byHand!.png))).toBe(true);
    const [untiled] = await generate(counted, { ...(await request()), cfgMode: 'sequential' }, { memoryLimitBytes: 64 * 2 ** 30 });
    expect((await pixels(untiled!.png)).equals(await pixels(forced!.png))).toBe(false);
  });

  it('too large: refused before any model call', async () => {
    calls = 0;
    const big = { ...(await request()), width: 2048, height: 2048, initImage: await makeTestImage(64, 64) };
    await expect(generate(counted, big, { memoryLimitBytes: 4 * 2 ** 30 })).rejects.toMatchObject({ code: 'too-large', message: expect.stringMatching(/2048×2048 needs .* \d+×\d+ fits/) });
    expect(calls).toBe(0);
  });
});
