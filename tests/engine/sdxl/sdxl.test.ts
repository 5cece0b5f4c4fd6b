// SDXL on the tiny SDXL-shaped ONNX models (tests/models/tiny-sdxl*, made by tools/make_test_models.py):
// inspection, the conditioning diffusers' StableDiffusionXLPipeline builds, and generation in every mode.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectModel, openModel, type StableDiffusionModel } from '../../../src-main/engine/model/index.js';
import type { PredictNoiseArgs } from '../../../src-main/engine/model/model.js';
import { generate, type PipelineModel } from '../../../src-main/engine/pipeline/index.js';
import { blurMask, decodeImage, maskFromImage, scaleMask } from '../../../src-main/engine/image/index.js';
import { applyPromptWeights, tokenizePrompt } from '../../../src-main/engine/prompt/index.js';
import { repoRoot } from '../../helpers/shared.js';
import { cleanupCopies, copyModel } from '../model/fixtures.js';
import { makeRectMask, makeTestImage, rawRgb } from '../pipeline/helpers.js';

const VARIANTS = ['tiny-sdxl', 'tiny-sdxl-fp16', 'tiny-sdxl-turbo'] as const;
type Variant = (typeof VARIANTS)[number];
const models = new Map<Variant, StableDiffusionModel>();
const modelDir = (v: string) => path.join(repoRoot, 'tests/models', v);
const base = { prompt: 'a (small:1.2) house by a lake, evening', negativePrompt: 'ugly', width: 64, height: 48, steps: 4, seed: 1234 };

/** The real model, recording every UNet call (the denoiser seam). */
function recorded(m: StableDiffusionModel): PipelineModel & { calls: PredictNoiseArgs[] } {
  const w = {
    calls: [] as PredictNoiseArgs[],
    info: m.info,
    tokenizer: m.tokenizer,
    tokenizer2: m.tokenizer2,
    encodeText: (ids: number[][]) => m.encodeText(ids),
    encodeText2: (ids: number[][]) => m.encodeText2(ids),
    predictNoise: (a: PredictNoiseArgs) => {
      w.calls.push({ ...a, sample: a.sample.slice() });
      return m.predictNoise(a);
    },
    encodeImage: (p: Float32Array, h: number, wd: number) => m.encodeImage(p, h, wd),
    decodeLatents: (l: Float32Array, b: number, h: number, wd: number) => m.decodeLatents(l, b, h, wd),
  };
  return w;
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

beforeAll(async () => {
  for (const v of VARIANTS) models.set(v, await openModel(modelDir(v)));
});
afterAll(async () => {
  for (const m of models.values()) await m.dispose();
  await cleanupCopies();
});

describe('SDXL: inspection', () => {
  it('tiny-sdxl is recognised as SDXL, with each graph read for its own names and dtypes', async () => {
    const r = await inspectModel(modelDir('tiny-sdxl'));
    expect(r.problems).toEqual([]);
    expect(r.supported).toBe(true);
    expect(r.variant).toBe('sdxl');
    expect(r.pipelineClassName).toBe('StableDiffusionXLPipeline');
    expect(r.info).toMatchObject({ family: 'sdxl', textHiddenSize: 32, vaeScalingFactor: 0.13025, timestepInput: 'int64[batch]', inputIdsType: 'int32' });
    expect(r.info!.sdxl).toEqual({
      textHiddenSize2: 48,
      pooledDim: 40,
      timeIdsDim: 6,
      forceZerosForEmptyPrompt: true,
      // hidden_states[-2] of hidden_states.0 … hidden_states.2 (2 layers)
      textEncoderOutput: 'hidden_states.1',
      textEncoder2Output: 'hidden_states.1',
      inputIdsType2: 'int32',
    });
    expect(r.components.text_encoder_2?.outputs.map((o) => o.name)).toEqual(['text_embeds', 'last_hidden_state', 'hidden_states.0', 'hidden_states.1', 'hidden_states.2']);
    expect(r.components.unet.inputs.map((i) => i.name)).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'time_ids']);
    expect(r.dtypes).toMatchObject({ text_encoder: 'float32', text_encoder_2: 'float32', unet: 'float32' });
  });

  it('fp16 and Turbo variants', async () => {
    const fp16 = await inspectModel(modelDir('tiny-sdxl-fp16'));
    expect(fp16).toMatchObject({ supported: true, variant: 'sdxl-fp16', dtypes: { text_encoder_2: 'float16', unet: 'float16', vae_decoder: 'float16' } });
    const turbo = await inspectModel(modelDir('tiny-sdxl-turbo'));
    expect(turbo).toMatchObject({ supported: true, variant: 'sdxl' });
    expect(turbo.info).toMatchObject({ timestepInput: 'float32[]', inputIdsType: 'int64', schedulerClassName: 'EulerAncestralDiscreteScheduler' });
  });

  it('SD 1.x models report no text_encoder_2 component', async () => {
    const r = await inspectModel(modelDir('tiny-sd15'));
    expect(r.components.text_encoder_2).toBeUndefined();
    expect(r.info!.sdxl).toBeUndefined();
  });
});

describe("SDXL: diffusers' conditioning", () => {
  it('encoder states = both penultimate hidden states per token; text_embeds = pooled; time_ids = size, crop, size', async () => {
    const model = models.get('tiny-sdxl')!;
    const m = recorded(model);
    await generate(m, { ...base, prompt: 'a house', negativePrompt: 'ugly', cfgScale: 5, steps: 1, sampler: 'euler' });
    expect(m.calls).toHaveLength(1);
    const call = m.calls[0]!;
    expect(call.batch).toBe(2);
    expect(call.sequenceLength).toBe(77);
    expect(Array.from(call.timeIds!)).toEqual([48, 64, 0, 0, 48, 64, 48, 64, 0, 0, 48, 64]);
    // Row 1 (cond) from the encoders directly.
    const ids1 = tokenizePrompt(model.tokenizer, 'a house').chunks[0]!.ids;
    const ids2 = tokenizePrompt(model.tokenizer2!, 'a house').chunks[0]!.ids;
    expect(ids2.at(-1)).toBe(0); // tokenizer_2 pads with "!" (id 0)
    expect(ids1.at(-1)).toBe(model.tokenizer.eosTokenId);
    const h1 = await model.encodeText([ids1]);
    const e2 = await model.encodeText2([ids2]);
    const d = 80;
    const cond = call.encoderHiddenStates.subarray(77 * d);
    for (const tok of [0, 3, 76]) {
      expect(Array.from(cond.subarray(tok * d, tok * d + 32))).toEqual(Array.from(h1.subarray(tok * 32, tok * 32 + 32)));
      expect(Array.from(cond.subarray(tok * d + 32, tok * d + 80))).toEqual(Array.from(e2.hidden.subarray(tok * 48, tok * 48 + 48)));
    }
    expect(Array.from(call.textEmbeds!.subarray(40))).toEqual(Array.from(e2.pooled));
    // The negative prompt was encoded (not zeros).
    expect(call.textEmbeds!.subarray(0, 40).some((v) => v !== 0)).toBe(true);
  });

  it('force_zeros_for_empty_prompt: no negative prompt → zero negative states and pooled', async () => {
    const m = recorded(models.get('tiny-sdxl')!);
    await generate(m, { ...base, negativePrompt: '', cfgScale: 5, steps: 1, sampler: 'euler' });
    const call = m.calls[0]!;
    const half = call.encoderHiddenStates.length / 2;
    expect(call.encoderHiddenStates.subarray(0, half).every((v) => v === 0)).toBe(true);
    expect(call.encoderHiddenStates.subarray(half).some((v) => v !== 0)).toBe(true);
    expect(call.textEmbeds!.subarray(0, 40).every((v) => v === 0)).toBe(true);
  });

  it("prompt weights apply to each encoder's states (A1111 emphasis, mean restored); the pooled embedding is unweighted", async () => {
    const model = models.get('tiny-sdxl')!;
    const m = recorded(model);
    await generate(m, { ...base, prompt: '(house:1.5) by a lake', cfgScale: 0, steps: 1, sampler: 'euler' });
    const call = m.calls[0]!;
    const t1 = tokenizePrompt(model.tokenizer, '(house:1.5) by a lake').chunks[0]!;
    const t2 = tokenizePrompt(model.tokenizer2!, '(house:1.5) by a lake').chunks[0]!;
    expect(t1.weights[1]).toBeCloseTo(1.5);
    const w1 = applyPromptWeights(await model.encodeText([t1.ids]), t1.weights, 77, 32);
    const e2 = await model.encodeText2([t2.ids]);
    const w2 = applyPromptWeights(e2.hidden, t2.weights, 77, 48);
    for (const tok of [0, 1, 2, 40]) {
      expect(Array.from(call.encoderHiddenStates.subarray(tok * 80, tok * 80 + 32))).toEqual(Array.from(w1.subarray(tok * 32, tok * 32 + 32)));
      expect(Array.from(call.encoderHiddenStates.subarray(tok * 80 + 32, tok * 80 + 80))).toEqual(Array.from(w2.subarray(tok * 48, tok * 48 + 48)));
    }
    const plain = await model.encodeText2([tokenizePrompt(model.tokenizer2!, 'house by a lake').chunks[0]!.ids]);
    expect(Array.from(call.textEmbeds!)).toEqual(Array.from(plain.pooled));
    // The weighting did change the states.
    const unweighted = await model.encodeText([t1.ids]);
    expect(Array.from(w1.subarray(32, 64))).not.toEqual(Array.from(unweighted.subarray(32, 64)));
  });

  it('long prompts: 77-token chunks on both encoders, the negative padded to as many', async () => {
    const m = recorded(models.get('tiny-sdxl')!);
    const long = Array.from({ length: 60 }, (_, i) => `house${i % 7} lake`).join(', ');
    await generate(m, { ...base, prompt: long, cfgScale: 5, steps: 1, sampler: 'euler' });
    const call = m.calls[0]!;
    expect(call.sequenceLength % 77).toBe(0);
    expect(call.sequenceLength).toBeGreaterThan(77);
    expect(call.encoderHiddenStates.length).toBe(2 * call.sequenceLength * 80);
  });
});

describe('SDXL: generation', () => {
  for (const v of VARIANTS) {
    it(`${v}: txt2img generates; a rerun is byte-identical; another seed differs`, async () => {
      const m = recorded(models.get(v)!);
      const turbo = v === 'tiny-sdxl-turbo';
      const req = { ...base, cfgScale: turbo ? 0 : 6, steps: turbo ? 1 : 4 };
      const [a] = await generate(m, req);
      const img = await rawRgb(a!.png);
      expect(img).toMatchObject({ width: 64, height: 48 });
      expect(new Set(img.data).size).toBeGreaterThan(8);
      expect(m.calls).toHaveLength(req.steps);
      expect(m.calls[0]!.batch).toBe(turbo ? 1 : 2);
      const [again] = await generate(m, req);
      expect(same(again!.png, a!.png)).toBe(true);
      const [other] = await generate(m, { ...req, seed: 99 });
      expect(same((await rawRgb(other!.png)).data, img.data)).toBe(false);
    });
  }

  it("cfgMode 'sequential' paints the same picture as the batch of two", async () => {
    const m = models.get('tiny-sdxl')!;
    const req = { ...base, cfgScale: 6, steps: 3 };
    const [a] = await generate(m, req);
    const [b] = await generate(m, { ...req, cfgMode: 'sequential' });
    expect(same((await rawRgb(a!.png)).data, (await rawRgb(b!.png)).data)).toBe(true);
  });

  it('img2img: runs int(steps·strength) steps, reproducibly', async () => {
    const init = await makeTestImage(64, 64, 2);
    const m = recorded(models.get('tiny-sdxl')!);
    const req = { ...base, width: 64, height: 64, steps: 10, strength: 0.6, initImage: init, cfgScale: 5 };
    const [a] = await generate(m, req);
    expect(m.calls).toHaveLength(6);
    const [b] = await generate(m, req);
    expect(same(a!.png, b!.png)).toBe(true);
    expect(same((await rawRgb(a!.png)).data, (await rawRgb(init)).data)).toBe(false);
  });

  for (const v of ['tiny-sdxl', 'tiny-sdxl-fp16'] as const) {
    it(`${v} inpainting (4-channel blend): pixels outside the feathered mask stay exact`, async () => {
      const init = await makeTestImage(64, 64, 6);
      const maskPng = await makeRectMask(64, 64, 20, 12, 44, 36);
      const [res] = await generate(models.get(v)!, { ...base, width: 64, height: 64, initImage: init, mask: maskPng, strength: 0.8, maskBlur: 3, cfgScale: 5 });
      const out = await rawRgb(res!.png);
      const src = await rawRgb(init);
      const keep = scaleMask(blurMask(maskFromImage(await decodeImage(maskPng)), 3), 2);
      let changed = 0;
      for (let i = 0; i < 64 * 64; i++) {
        const eq = out.data[i * 3] === src.data[i * 3] && out.data[i * 3 + 1] === src.data[i * 3 + 1] && out.data[i * 3 + 2] === src.data[i * 3 + 2];
        if (keep.data[i] === 0 && !eq) throw new Error(`pixel ${i} outside the mask changed`);
        if (!eq) changed++;
      }
      expect(changed).toBeGreaterThan(100);
    });
  }
});

describe('SDXL: 9-channel inpainting UNet and fp16 VAE overflow', () => {
  it('tiny-sdxl-inpaint is recognised and inpaints; pixels outside the feathered mask stay exact', async () => {
    const r = await inspectModel(modelDir('tiny-sdxl-inpaint'));
    expect(r).toMatchObject({ supported: true, variant: 'sdxl-inpainting', pipelineClassName: 'StableDiffusionXLInpaintPipeline' });
    const model = await openModel(modelDir('tiny-sdxl-inpaint'));
    try {
      const m = recorded(model);
      const init = await makeTestImage(64, 64, 3);
      const maskPng = await makeRectMask(64, 64, 16, 16, 48, 40);
      const req = { ...base, width: 64, height: 64, initImage: init, mask: maskPng, strength: 1, maskBlur: 3, cfgScale: 5, steps: 3 };
      const [a] = await generate(m, req);
      // [latents | mask | masked-image latents] with the SDXL conditioning alongside
      expect(m.calls[0]!.sample.length).toBe(2 * 9 * 8 * 8);
      expect(m.calls[0]!.timeIds).toHaveLength(12);
      const out = await rawRgb(a!.png);
      const src = await rawRgb(init);
      const keep = scaleMask(blurMask(maskFromImage(await decodeImage(maskPng)), 3), 2);
      let changed = 0;
      for (let i = 0; i < 64 * 64; i++) {
        const eq = out.data[i * 3] === src.data[i * 3] && out.data[i * 3 + 1] === src.data[i * 3 + 1] && out.data[i * 3 + 2] === src.data[i * 3 + 2];
        if (keep.data[i] === 0 && !eq) throw new Error(`pixel ${i} outside the mask changed`);
        if (!eq) changed++;
      }
      expect(changed).toBeGreaterThan(100);
      const [b] = await generate(m, req);
      expect(same(a!.png, b!.png)).toBe(true);
    } finally {
      await model.dispose();
    }
  });

  it('a float16 VAE decoder that overflows is reported, not decoded into a black picture', async () => {
    // overlay-vae-fp16-overflow: a float16 vae_decoder whose output passes float16's largest value.
    const dir = await copyModel('tiny-sdxl-fp16', 'overlay-vae-fp16-overflow');
    const model = await openModel(dir);
    try {
      const fine = await models.get('tiny-sdxl-fp16')!.decodeLatents(new Float32Array(4 * 8 * 8).fill(0.5), 1, 8, 8);
      expect(fine.every((v) => Number.isFinite(v))).toBe(true);
      await expect(model.decodeLatents(new Float32Array(4 * 8 * 8).fill(0.5), 1, 8, 8)).rejects.toMatchObject({ code: 'vae-overflow', file: 'vae_decoder/model.onnx' });
      await expect(generate(model, { ...base, cfgScale: 5, steps: 1 })).rejects.toThrow(/float16 VAE decoder overflowed/);
    } finally {
      await model.dispose();
    }
  });
});
