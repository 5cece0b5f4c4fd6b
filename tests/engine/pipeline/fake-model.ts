// A pure-JS stand-in for StableDiffusionModel: fast, deterministic, and instrumented.
// `oracle` mode predicts the exact noise for a known clean latent (see oracleNoise).
import type { PipelineModel } from '../../../src-main/engine/pipeline/index.js';
import type { EncodedImageLatent, PredictNoiseArgs } from '../../../src-main/engine/pipeline/types.js';
import type { PromptTokenizer } from '../../../src-main/engine/prompt/index.js';
import { getNoiseSchedule, SD15_SCHEDULER_CONFIG } from '../../../src-main/engine/schedulers/index.js';
import type { SchedulerConfig } from '../../../src-main/engine/schedulers/types.js';

export const fakeTokenizer: PromptTokenizer = {
  encode(text: string): number[] {
    const out: number[] = [];
    for (const word of text.toLowerCase().match(/[a-z0-9]+|[^\sa-z0-9]/g) ?? []) {
      if (word === ',') {
        out.push(267);
        continue;
      }
      let hsh = 7;
      for (const ch of word) hsh = (hsh * 31 + ch.charCodeAt(0)) % 40000;
      out.push(1000 + hsh);
    }
    return out;
  },
  tokenToId: (t: string) => (t === ',</w>' ? 267 : undefined),
  bosTokenId: 49406,
  eosTokenId: 49407,
  padTokenId: 49407,
  modelMaxLength: 77,
};

/** ᾱ(t) of the UNet input's parametrisation: x_in = √ᾱ·x0 + √(1−ᾱ)·ε, with σ linearly interpolated in t. */
export function alphaBarAt(config: SchedulerConfig, t: number): number {
  const s = getNoiseSchedule({ ...SD15_SCHEDULER_CONFIG, ...config });
  const T = s.numTrainTimesteps;
  const tc = Math.min(T - 1, Math.max(0, t));
  const lo = Math.floor(tc);
  const hi = Math.min(T - 1, lo + 1);
  const sigma = s.sigmaTable[lo]! + (s.sigmaTable[hi]! - s.sigmaTable[lo]!) * (tc - lo);
  return 1 / (1 + sigma * sigma);
}

export interface FakeModelOptions {
  unetInChannels?: 4 | 9;
  unetMaxBatch?: number | null;
  timestepCondDim?: number;
  schedulerConfig?: SchedulerConfig;
  vaeEncoder?: 'latent_sample' | 'latent_parameters' | null;
  /** Known clean latent (model space, i.e. × scaling) per latent size key `${h}x${w}`; enables the oracle. */
  oracleX0?: (h: number, w: number) => Float32Array;
  /** v_prediction oracle instead of ε. */
  vPrediction?: boolean;
  /** Scale the UNet output (absurd values to test the NaN guard). */
  outputScale?: number;
}

export interface FakeModel extends PipelineModel {
  calls: { unet: PredictNoiseArgs[]; encodeText: number[][][]; encodeImage: number; decode: { latents: Float32Array; h: number; w: number }[] };
}

export function createFakeModel(opts: FakeModelOptions = {}): FakeModel {
  const dim = 8;
  const scaling = 0.18215;
  const schedulerConfig = opts.schedulerConfig ?? { _class_name: 'PNDMScheduler', ...SD15_SCHEDULER_CONFIG, skip_prk_steps: true, clip_sample: false, timestep_spacing: 'leading', ...(opts.vPrediction ? { prediction_type: 'v_prediction' } : {}) };
  const calls: FakeModel['calls'] = { unet: [], encodeText: [], encodeImage: 0, decode: [] };
  const model: FakeModel = {
    calls,
    info: {
      unetInChannels: opts.unetInChannels ?? 4,
      isInpainting: opts.unetInChannels === 9,
      timestepCondDim: opts.timestepCondDim ?? null,
      textHiddenSize: dim,
      unetMaxBatch: opts.unetMaxBatch === undefined ? null : opts.unetMaxBatch,
      vaeScalingFactor: scaling,
      vaeEncoder: opts.vaeEncoder === undefined ? 'latent_parameters' : opts.vaeEncoder,
      schedulerConfig,
      name: 'fake',
    },
    tokenizer: fakeTokenizer,
    async encodeText(ids) {
      calls.encodeText.push(ids);
      const out = new Float32Array(ids.length * 77 * dim);
      ids.forEach((chunk, k) => chunk.forEach((id, j) => {
        for (let d = 0; d < dim; d++) out[(k * 77 + j) * dim + d] = Math.sin(id * 0.001 + d + j * 0.1);
      }));
      return out;
    },
    async predictNoise(args) {
      calls.unet.push({ ...args });
      const { batch, latentHeight: h, latentWidth: w, sample, timestep } = args;
      const cin = model.info.unetInChannels;
      const n = 4 * h * w;
      const out = new Float32Array(batch * n);
      for (let b = 0; b < batch; b++) {
        const x = sample.subarray(b * cin * h * w, b * cin * h * w + n);
        if (opts.oracleX0) {
          const x0 = opts.oracleX0(h, w);
          const ab = alphaBarAt(schedulerConfig, timestep);
          const a = Math.sqrt(ab);
          const s = Math.sqrt(1 - ab);
          for (let i = 0; i < n; i++) {
            const eps = (x[i]! - a * x0[i]!) / s;
            out[b * n + i] = opts.vPrediction ? a * eps - s * x0[i]! : eps;
          }
        } else {
          // A mild, deterministic "denoiser": pulls towards a text-dependent constant.
          const e = args.encoderHiddenStates[b * args.sequenceLength * dim + dim + 1]!;
          for (let i = 0; i < n; i++) out[b * n + i] = (x[i]! * 0.5 + e * 0.1 + (i % 7) * 0.01) * (opts.outputScale ?? 1);
        }
      }
      return out;
    },
    async encodeImage(pixels, H, W): Promise<EncodedImageLatent> {
      calls.encodeImage++;
      const h = H / 8;
      const w = W / 8;
      const hw = h * w;
      const mean = new Float32Array(4 * hw);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let yy = 0; yy < 8; yy++) for (let xx = 0; xx < 8; xx++) s += pixels[c * H * W + (y * 8 + yy) * W + x * 8 + xx]!;
          mean[c * hw + y * w + x] = s / 64 / scaling;
        }
        mean[3 * hw + y * w + x] = 0;
      }
      if (model.info.vaeEncoder === 'latent_sample') return { kind: 'sample', data: mean };
      const params = new Float32Array(8 * hw);
      params.set(mean);
      params.fill(-12, 4 * hw);
      return { kind: 'parameters', data: params };
    },
    async decodeLatents(latents, B, h, w) {
      calls.decode.push({ latents: new Float32Array(latents), h, w });
      const H = h * 8;
      const W = w * 8;
      const out = new Float32Array(B * 3 * H * W);
      for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        out[c * H * W + y * W + x] = Math.tanh(latents[c * h * w + (y >> 3) * w + (x >> 3)]! * scaling);
      }
      return out;
    },
  };
  return model;
}
