// Every tiny variant opens and runs each method with the right shapes, through the public API.
import { afterAll, describe, expect, it } from 'vitest';
import { openModel, type StableDiffusionModel } from '../../../src-main/engine/model/index.js';
import { allFinite, cleanupCopies, copyModel, maxAbsDiff, modelPath, pattern, VARIANTS } from './fixtures.js';

afterAll(cleanupCopies);

interface Expected {
  family: string;
  dtype: 'float32' | 'float16';
  unetInChannels: number;
  timestepCondDim?: number;
  predictionType: string;
  textHiddenSize: number;
  unetMaxBatch: number | null;
  vaeEncoder: 'latent_sample' | 'latent_parameters';
  schedulerClassName: string;
  padTokenId: 'eos' | 0;
}

const EXPECTED: Record<(typeof VARIANTS)[number], Expected> = {
  'tiny-sd15': { family: 'sd1', dtype: 'float32', unetInChannels: 4, predictionType: 'epsilon', textHiddenSize: 32, unetMaxBatch: null, vaeEncoder: 'latent_sample', schedulerClassName: 'PNDMScheduler', padTokenId: 'eos' },
  'tiny-sd15-fp16': { family: 'sd1', dtype: 'float16', unetInChannels: 4, predictionType: 'epsilon', textHiddenSize: 32, unetMaxBatch: null, vaeEncoder: 'latent_sample', schedulerClassName: 'PNDMScheduler', padTokenId: 'eos' },
  'tiny-sd2-v': { family: 'sd2', dtype: 'float32', unetInChannels: 4, predictionType: 'v_prediction', textHiddenSize: 48, unetMaxBatch: null, vaeEncoder: 'latent_parameters', schedulerClassName: 'DDIMScheduler', padTokenId: 0 },
  'tiny-inpaint': { family: 'sd1', dtype: 'float32', unetInChannels: 9, predictionType: 'epsilon', textHiddenSize: 32, unetMaxBatch: null, vaeEncoder: 'latent_sample', schedulerClassName: 'PNDMScheduler', padTokenId: 'eos' },
  'tiny-lcm': { family: 'sd1', dtype: 'float32', unetInChannels: 4, timestepCondDim: 32, predictionType: 'epsilon', textHiddenSize: 32, unetMaxBatch: null, vaeEncoder: 'latent_parameters', schedulerClassName: 'LCMScheduler', padTokenId: 'eos' },
  'tiny-turbo': { family: 'sd2', dtype: 'float32', unetInChannels: 4, predictionType: 'epsilon', textHiddenSize: 48, unetMaxBatch: 1, vaeEncoder: 'latent_parameters', schedulerClassName: 'EulerAncestralDiscreteScheduler', padTokenId: 0 },
};

async function withModel<T>(dir: string, fn: (m: StableDiffusionModel) => Promise<T>): Promise<T> {
  const m = await openModel(dir, { threads: 1 });
  try {
    return await fn(m);
  } finally {
    await m.dispose();
  }
}

function unetArgs(m: StableDiffusionModel, batch: number, h: number, w: number, seq = 77, timestep = 801) {
  const cond = m.info.timestepCondDim;
  return {
    sample: pattern(batch * m.info.unetInChannels * h * w, 7),
    batch,
    latentHeight: h,
    latentWidth: w,
    timestep,
    encoderHiddenStates: pattern(batch * seq * m.info.textHiddenSize, 11),
    sequenceLength: seq,
    ...(cond ? { timestepCond: pattern(batch * cond, 13) } : {}),
  };
}

describe.each(VARIANTS)('%s', (name) => {
  const exp = EXPECTED[name];

  it('opens with the expected info', async () => {
    await withModel(modelPath(name), async (m) => {
      expect(m.info).toMatchObject({
        name,
        family: exp.family,
        dtype: exp.dtype,
        unetInChannels: exp.unetInChannels,
        isInpainting: exp.unetInChannels === 9,
        predictionType: exp.predictionType,
        textHiddenSize: exp.textHiddenSize,
        textMaxLength: 77,
        unetMaxBatch: exp.unetMaxBatch,
        vaeScalingFactor: 0.18215,
        latentChannels: 4,
        vaeEncoder: exp.vaeEncoder,
        schedulerClassName: exp.schedulerClassName,
        backend: 'cpu',
        warnings: [],
      });
      expect(m.info.timestepCondDim).toBe(exp.timestepCondDim);
      expect(m.info.schedulerConfig['_class_name']).toBe(exp.schedulerClassName);
      expect(m.dir).toBe(modelPath(name));
      expect(m.tokenizer.padTokenId).toBe(exp.padTokenId === 0 ? 0 : m.tokenizer.eosTokenId);
      expect(m.tokenizer.modelMaxLength).toBe(77);
    });
  });

  it('encodes text, predicts noise, encodes and decodes images', async () => {
    await withModel(modelPath(name), async (m) => {
      const row = (text: string): number[] => {
        const body = m.tokenizer.encode(text).slice(0, 75);
        const r = [m.tokenizer.bosTokenId, ...body, m.tokenizer.eosTokenId];
        while (r.length < 77) r.push(m.tokenizer.padTokenId);
        return r;
      };
      const te = await m.encodeText([row(''), row('a photo of a cat, highly detailed')]);
      expect(te).toBeInstanceOf(Float32Array);
      expect(te).toHaveLength(2 * 77 * m.info.textHiddenSize);
      expect(allFinite(te)).toBe(true);

      // CFG batch of 2, a long prompt (2 x 77 tokens) and an odd latent size (40x56 px -> 5x7).
      const eps = await m.predictNoise(unetArgs(m, 2, 5, 7, 154));
      expect(eps).toBeInstanceOf(Float32Array);
      expect(eps).toHaveLength(2 * 4 * 5 * 7);
      expect(allFinite(eps)).toBe(true);

      const enc = await m.encodeImage(pattern(3 * 48 * 64, 3), 48, 64);
      expect(enc.kind).toBe(exp.vaeEncoder === 'latent_parameters' ? 'parameters' : 'sample');
      expect(enc.data).toHaveLength((enc.kind === 'parameters' ? 8 : 4) * 6 * 8);
      expect(allFinite(enc.data)).toBe(true);

      const dec = await m.decodeLatents(pattern(2 * 4 * 6 * 8, 5), 2, 6, 8);
      expect(dec).toHaveLength(2 * 3 * 48 * 64);
      expect(allFinite(dec)).toBe(true);
      let maxAbs = 0;
      for (const x of dec) maxAbs = Math.max(maxAbs, Math.abs(x));
      expect(maxAbs).toBeLessThan(4); // "about [-1, 1]" for random weights
      // Batch decoding equals decoding each image alone.
      const first = await m.decodeLatents(pattern(2 * 4 * 6 * 8, 5).slice(0, 4 * 6 * 8), 1, 6, 8);
      expect(maxAbsDiff(first, dec.subarray(0, 3 * 48 * 64))).toBeLessThan(1e-5);

      expect(m.stats.sessionRuns).toBe(m.info.unetMaxBatch === 1 ? 7 : 6);
      expect(m.stats.sessionRunMs).toBeGreaterThan(0);
    });
  });

  it('runs a batch the same as its rows one by one', async () => {
    await withModel(modelPath(name), async (m) => {
      const both = await m.predictNoise(unetArgs(m, 2, 4, 4));
      const a = unetArgs(m, 2, 4, 4);
      const c = m.info.unetInChannels;
      const hidden = m.info.textHiddenSize;
      const cond = m.info.timestepCondDim ?? 0;
      const row1 = await m.predictNoise({
        ...a,
        batch: 1,
        sample: a.sample.slice(c * 16),
        encoderHiddenStates: a.encoderHiddenStates.slice(77 * hidden),
        ...(cond ? { timestepCond: a.timestepCond!.slice(cond) } : {}),
      });
      const tol = m.info.dtype === 'float16' ? 2e-2 : 1e-4;
      expect(maxAbsDiff(row1, both.subarray(4 * 16))).toBeLessThan(tol);
    });
  });
});

describe('timestep, dtype and weights handling', () => {
  it('int64 timesteps truncate fractions (as numpy/optimum do); float timesteps keep them', async () => {
    await withModel(modelPath('tiny-sd15'), async (m) => {
      const a = await m.predictNoise(unetArgs(m, 1, 4, 4, 77, 500));
      const b = await m.predictNoise(unetArgs(m, 1, 4, 4, 77, 500.9));
      const c = await m.predictNoise(unetArgs(m, 1, 4, 4, 77, 501));
      expect(maxAbsDiff(a, b)).toBe(0);
      expect(maxAbsDiff(a, c)).toBeGreaterThan(0);
    });
    await withModel(modelPath('tiny-sd2-v'), async (m) => {
      const a = await m.predictNoise(unetArgs(m, 1, 4, 4, 77, 500));
      const b = await m.predictNoise(unetArgs(m, 1, 4, 4, 77, 500.9));
      expect(maxAbsDiff(a, b)).toBeGreaterThan(0);
    });
  });

  it('the float16 model gives what its float32 original gives, to float16 precision', async () => {
    const m32 = await openModel(modelPath('tiny-sd15'), { threads: 1 });
    const m16 = await openModel(modelPath('tiny-sd15-fp16'), { threads: 1 });
    try {
      const row = [m32.tokenizer.bosTokenId, 300, 400, m32.tokenizer.eosTokenId, ...new Array<number>(73).fill(m32.tokenizer.eosTokenId)];
      const t32 = await m32.encodeText([row]);
      const t16 = await m16.encodeText([row]);
      expect(maxAbsDiff(t32, t16)).toBeLessThan(0.05);
      const e32 = await m32.predictNoise(unetArgs(m32, 2, 4, 6));
      const e16 = await m16.predictNoise(unetArgs(m16, 2, 4, 6));
      expect(maxAbsDiff(e32, e16)).toBeLessThan(0.05);
      const d32 = await m32.decodeLatents(pattern(4 * 16, 2), 1, 4, 4);
      const d16 = await m16.decodeLatents(pattern(4 * 16, 2), 1, 4, 4);
      expect(maxAbsDiff(d32, d16)).toBeLessThan(0.05);
    } finally {
      await m32.dispose();
      await m16.dispose();
    }
  });

  it('loads a UNet whose weights are in model.onnx_data', async () => {
    const dir = await copyModel('tiny-sd15', 'overlay-external-data');
    const ref = await withModel(modelPath('tiny-sd15'), (m) => m.predictNoise(unetArgs(m, 2, 4, 4)));
    const got = await withModel(dir, (m) => m.predictNoise(unetArgs(m, 2, 4, 4)));
    expect(maxAbsDiff(ref, got)).toBe(0);
  });

  it('the fixed-batch UNet is run once per row', async () => {
    await withModel(modelPath('tiny-turbo'), async (m) => {
      expect(m.info.unetMaxBatch).toBe(1);
      const before = m.stats.sessionRuns;
      await m.predictNoise(unetArgs(m, 3, 4, 4));
      expect(m.stats.sessionRuns - before).toBe(3);
    });
  });

  it('a UNet with a fixed batch of 2 is padded for odd batches and gives the dynamic model\'s result', async () => {
    const dir = await copyModel('tiny-sd15', 'overlay-unet-batch-2');
    for (const batch of [1, 2, 3]) {
      const ref = await withModel(modelPath('tiny-sd15'), (m) => m.predictNoise(unetArgs(m, batch, 3, 5)));
      const got = await withModel(dir, async (m) => {
        expect(m.info.unetMaxBatch).toBe(2);
        const r = await m.predictNoise(unetArgs(m, batch, 3, 5));
        expect(m.stats.sessionRuns).toBe(Math.ceil(batch / 2));
        return r;
      });
      expect(got).toHaveLength(batch * 4 * 15);
      expect(maxAbsDiff(ref, got)).toBeLessThan(1e-5);
    }
  });

  it('outputs are deterministic', async () => {
    await withModel(modelPath('tiny-lcm'), async (m) => {
      const a = await m.predictNoise(unetArgs(m, 1, 4, 4));
      const b = await m.predictNoise(unetArgs(m, 1, 4, 4));
      expect(maxAbsDiff(a, b)).toBe(0);
    });
  });
});
