// openModel: one session per component, created once, fed by what each graph declares (names, dtypes,
// timestep shape, fixed batch dims), so the pipeline only ever deals in float32 arrays.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createSession,
  floatTensor,
  numericTensor,
  toFloat32,
  type OnnxSession,
  type TensorValue,
} from '../onnx/runtime.js';
import { ClipTokenizer } from '../tokenizer/index.js';
import { analyze, type Bindings, type ComponentName, type ModelFacts, type UnetBinding } from './analyze.js';
import { ModelError } from './errors.js';
import { gatherFolder } from './inspect.js';

export interface ModelInfo extends ModelFacts {
  /** The backend the sessions really run on ('cpu' after a fallback). */
  backend: string;
  warnings: string[];
}

export interface PredictNoiseArgs {
  /** [batch, unetInChannels, latentHeight, latentWidth] */
  sample: Float32Array;
  batch: number;
  latentHeight: number;
  latentWidth: number;
  /** The scheduler's timestep (fractions are truncated for int64 timestep inputs, as numpy/optimum do). */
  timestep: number;
  /** [batch, sequenceLength, textHiddenSize (+ sdxl.textHiddenSize2)] */
  encoderHiddenStates: Float32Array;
  sequenceLength: number;
  /** [batch, timestepCondDim], required when info.timestepCondDim is set (LCM). */
  timestepCond?: Float32Array;
  /** SDXL, required when info.sdxl is set: [batch, sdxl.pooledDim] pooled text embeddings and [batch, 6] time ids. */
  textEmbeds?: Float32Array;
  timeIds?: Float32Array;
}

/** text_encoder_2's output for SDXL: penultimate hidden states [rows, len, textHiddenSize2] and text_embeds [rows, pooledDim]. */
export interface EncodedText2 {
  hidden: Float32Array;
  pooled: Float32Array;
}

export interface EncodedImage {
  /** 'sample': [1,4,h,w] latents already sampled by the graph; 'parameters': [1,8,h,w] mean | logvar, unsampled. */
  kind: 'sample' | 'parameters';
  data: Float32Array;
}

export interface ModelStats {
  /** Cumulative milliseconds spent inside session.run. */
  sessionRunMs: number;
  sessionRuns: number;
}

export interface OpenModelOptions {
  backend?: string;
  threads?: number;
  onWarning?: (message: string) => void;
}

export interface StableDiffusionModel {
  readonly dir: string;
  readonly info: ModelInfo;
  readonly tokenizer: ClipTokenizer;
  /** SDXL's second tokenizer (tokenizer_2/); undefined for other models. */
  readonly tokenizer2?: ClipTokenizer;
  encodeText(ids: readonly (readonly number[])[]): Promise<Float32Array>;
  /** SDXL's second text encoder; throws for models without one. */
  encodeText2(ids: readonly (readonly number[])[]): Promise<EncodedText2>;
  predictNoise(args: PredictNoiseArgs): Promise<Float32Array>;
  encodeImage(pixels: Float32Array, height: number, width: number): Promise<EncodedImage>;
  decodeLatents(latents: Float32Array, batch: number, latentHeight: number, latentWidth: number): Promise<Float32Array>;
  readonly stats: ModelStats;
  dispose(): Promise<void>;
}

function throwFirst(list: { code: string; file?: string; message: string }[], dir: string): never {
  // "This is SDXL" explains more than "a file is missing" from the same folder: report it first.
  const issues = [...list].sort((a, b) => Number(b.code === 'unsupported-architecture') - Number(a.code === 'unsupported-architecture'));
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and: ${issues.slice(1).map((i) => i.message).join('; ')})` : '';
  throw new ModelError(first.code, `${path.basename(dir)}: ${first.message}${more}`, first.file);
}

export async function openModel(dir: string, options: OpenModelOptions = {}): Promise<StableDiffusionModel> {
  const g = await gatherFolder(dir);
  const pre = analyze(g.facts);
  const preIssues = [...g.issues, ...pre.issues];
  if (preIssues.length > 0 || !pre.facts) throwFirst(preIssues.length ? preIssues : [{ code: 'invalid-onnx', message: 'the model could not be analysed' }], dir);

  const warnings: string[] = [...g.warnings, ...pre.warnings];
  const warn = (m: string): void => {
    warnings.push(m);
    options.onWarning?.(m);
  };
  for (const w of warnings) options.onWarning?.(w);

  const loadTokenizer = async (sub: string): Promise<ClipTokenizer> => {
    try {
      return await ClipTokenizer.fromDirectory(path.join(dir, sub));
    } catch (err) {
      throw new ModelError('tokenizer', `${path.basename(dir)}: ${sub}/ cannot be loaded (${(err as Error).message})`, `${sub}/vocab.json`, { cause: err });
    }
  };
  const tokenizer = await loadTokenizer('tokenizer');
  const tokenizer2 = pre.facts.sdxl ? await loadTokenizer('tokenizer_2') : undefined;

  const sessions: Partial<Record<ComponentName, OnnxSession>> = {};
  const backendWarned = new Set<string>();
  const release = async (): Promise<void> => {
    for (const s of Object.values(sessions)) await s?.release().catch(() => undefined);
  };
  try {
    for (const c of ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder'] as const) {
      if (!g.components[c]?.present) continue;
      const rel = `${c}/model.onnx`;
      try {
        sessions[c] = await createSession(path.join(dir, rel), {
          ...(options.backend !== undefined ? { backend: options.backend } : {}),
          ...(options.threads !== undefined ? { threads: options.threads } : {}),
          // The VAE runs once per image at full size: its working memory goes back when it is done
          // instead of staying in an arena beside the UNet's (runtime.ts keepArena).
          keepArena: c !== 'vae_decoder' && c !== 'vae_encoder',
          onWarning: (m) => {
            // One line per backend problem, not one per component.
            if (!backendWarned.has(m)) {
              backendWarned.add(m);
              warn(m);
            }
          },
        });
      } catch (err) {
        throw new ModelError('session-failed', `${path.basename(dir)}: onnxruntime cannot load ${rel}: ${firstLine((err as Error).message)}`, rel, { cause: err });
      }
    }
    // Re-derive the bindings from the live sessions' metadata (authoritative over the parsed headers).
    const live = analyze({
      ...g.facts,
      graphs: Object.fromEntries(
        Object.entries(sessions).map(([k, s]) => [k, { inputs: s!.inputs, outputs: s!.outputs }]),
      ) as typeof g.facts.graphs,
    });
    if (live.issues.length > 0 || !live.facts) throwFirst(live.issues.length ? live.issues : [{ code: 'invalid-onnx', message: 'the model could not be analysed' }], dir);
    const backend = sessions.unet!.backend;
    if (options.backend && backend !== 'cpu' && Object.values(sessions).some((s) => s!.backend !== backend)) {
      warn('some components run on the CPU because the requested backend could not load them');
    }
    const info: ModelInfo = { ...live.facts, backend, warnings };
    return new SdModel(path.resolve(dir), info, tokenizer, tokenizer2, sessions as Record<ComponentName, OnnxSession>, live.bindings);
  } catch (err) {
    await release();
    throw err;
  }
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? s;
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}

/** Rows [b0, b0+n) of a [rows, per] array, padded to runN rows with copies of the last row (fixed-batch graphs). */
function rows(a: Float32Array, b0: number, n: number, runN: number, per: number): Float32Array {
  const part = b0 === 0 && n * per === a.length ? a : a.subarray(b0 * per, (b0 + n) * per);
  if (runN === n) return part;
  const out = new Float32Array(runN * per);
  out.set(part);
  for (let r = n; r < runN; r++) out.copyWithin(r * per, (n - 1) * per, n * per);
  return out;
}

function badArg(message: string): never {
  throw new ModelError('bad-argument', message);
}

class SdModel implements StableDiffusionModel {
  readonly stats: ModelStats = { sessionRunMs: 0, sessionRuns: 0 };
  private disposed = false;

  constructor(
    readonly dir: string,
    readonly info: ModelInfo,
    readonly tokenizer: ClipTokenizer,
    readonly tokenizer2: ClipTokenizer | undefined,
    private readonly sessions: Record<ComponentName, OnnxSession | undefined>,
    private readonly bindings: Bindings,
  ) {}

  private async run(c: ComponentName, feeds: Record<string, TensorValue>, output: string): Promise<TensorValue> {
    return (await this.runMany(c, feeds, [output]))[0]!;
  }

  private async runMany(c: ComponentName, feeds: Record<string, TensorValue>, outputs: readonly string[]): Promise<TensorValue[]> {
    if (this.disposed) throw new ModelError('bad-argument', `${this.info.name}: the model has been disposed`);
    const s = this.sessions[c];
    if (!s) throw new ModelError('missing-component', `${this.info.name}: ${c}/model.onnx is not available`, `${c}/model.onnx`);
    const t0 = performance.now();
    try {
      const out = await s.run(feeds, [...outputs]);
      return outputs.map((name) => {
        const v = out[name];
        if (!v) throw new Error(`no output ${name}`);
        return v;
      });
    } finally {
      this.stats.sessionRunMs += performance.now() - t0;
      this.stats.sessionRuns++;
    }
  }

  async encodeText(ids: readonly (readonly number[])[]): Promise<Float32Array> {
    const b = this.bindings.textEncoder!;
    const mask = b.attentionMask;
    const [hidden] = await this.runTextEncoder('text_encoder', b, ids, [{ name: b.output, perToken: true, width: this.info.textHiddenSize }], mask ?? undefined);
    return hidden!;
  }

  async encodeText2(ids: readonly (readonly number[])[]): Promise<EncodedText2> {
    const b = this.bindings.textEncoder2;
    const sdxl = this.info.sdxl;
    if (!b || !sdxl) throw new ModelError('missing-component', `${this.info.name}: this model has no second text encoder (text_encoder_2/)`, 'text_encoder_2/model.onnx');
    const [hidden, pooled] = await this.runTextEncoder('text_encoder_2', b, ids, [
      { name: b.hidden, perToken: true, width: sdxl.textHiddenSize2 },
      { name: b.pooled, perToken: false, width: sdxl.pooledDim },
    ]);
    return { hidden: hidden!, pooled: pooled! };
  }

  /** Runs a text encoder over rows of ids (in runs of its fixed batch, if any); each output as [rows, (len,) width]. */
  private async runTextEncoder(
    c: 'text_encoder' | 'text_encoder_2',
    b: { input: string; inputType: 'int32' | 'int64'; fixedBatch: number | null },
    ids: readonly (readonly number[])[],
    outputs: readonly { name: string; perToken: boolean; width: number }[],
    attentionMask?: { name: string; type: 'int32' | 'int64' | 'float32' | 'float16' },
  ): Promise<Float32Array[]> {
    const count = ids.length;
    if (count === 0) badArg('encodeText: no rows');
    const len = ids[0]!.length;
    if (len === 0 || ids.some((r) => r.length !== len)) badArg('encodeText: every row must have the same, non-zero length');
    if (len > this.info.textMaxLength) badArg(`encodeText: rows of ${len} ids; the text encoder takes at most ${this.info.textMaxLength}`);
    const per = outputs.map((o) => (o.perToken ? len : 1) * o.width);
    const out = per.map((p) => new Float32Array(count * p));
    const step = b.fixedBatch ?? count;
    for (let r0 = 0; r0 < count; r0 += step) {
      const n = Math.min(step, count - r0);
      const runN = b.fixedBatch ?? n;
      const flat: number[] = [];
      for (let r = r0; r < r0 + runN; r++) for (const id of ids[Math.min(r, r0 + n - 1)]!) flat.push(id);
      const feeds: Record<string, TensorValue> = { [b.input]: numericTensor(b.inputType, flat, [runN, len]) };
      if (attentionMask) feeds[attentionMask.name] = numericTensor(attentionMask.type, new Array<number>(runN * len).fill(1), [runN, len]);
      const res = await this.runMany(c, feeds, outputs.map((o) => o.name));
      res.forEach((v, k) => {
        const f = toFloat32(v);
        const p = per[k]!;
        if (f.length !== runN * p) throw new ModelError('unexpected-output', `${c} returned ${outputs[k]!.name} ${v.dims.join('x')}, expected ${runN}x${outputs[k]!.perToken ? `${len}x` : ''}${outputs[k]!.width}`, `${c}/model.onnx`);
        out[k]!.set(n === runN ? f : f.subarray(0, n * p), r0 * p);
      });
    }
    return out;
  }

  private timestepTensor(b: UnetBinding, t: number, batch: number): TensorValue {
    if (b.timestepRank === 0) return numericTensor(b.timestepType, [t], []);
    const n = b.timestepFixedLength ?? batch;
    return numericTensor(b.timestepType, new Array<number>(n).fill(t), [n]);
  }

  async predictNoise(args: PredictNoiseArgs): Promise<Float32Array> {
    const b = this.bindings.unet!;
    const { batch, latentHeight: h, latentWidth: w, sequenceLength: seq } = args;
    const cin = this.info.unetInChannels;
    const sdxl = this.info.sdxl;
    const hidden = this.info.textHiddenSize + (sdxl?.textHiddenSize2 ?? 0);
    if (!(batch >= 1 && Number.isInteger(batch))) badArg(`predictNoise: bad batch ${batch}`);
    if (!(h >= 1 && w >= 1 && Number.isInteger(h) && Number.isInteger(w))) badArg(`predictNoise: bad latent size ${h}x${w}`);
    if (args.sample.length !== batch * cin * h * w) {
      badArg(`predictNoise: sample has ${args.sample.length} values, expected ${batch}x${cin}x${h}x${w} = ${batch * cin * h * w}`);
    }
    if (!(seq >= 1) || args.encoderHiddenStates.length !== batch * seq * hidden) {
      badArg(`predictNoise: encoderHiddenStates has ${args.encoderHiddenStates.length} values, expected ${batch}x${seq}x${hidden}`);
    }
    if (!Number.isFinite(args.timestep)) badArg(`predictNoise: bad timestep ${args.timestep}`);
    const condDim = b.timestepCond?.dim ?? 0;
    if (b.timestepCond) {
      if (!args.timestepCond) badArg(`predictNoise: this UNet (LCM) needs timestepCond [batch, ${condDim}]`);
      if (args.timestepCond.length !== batch * condDim) badArg(`predictNoise: timestepCond has ${args.timestepCond.length} values, expected ${batch}x${condDim}`);
    }
    const pooledDim = b.textEmbeds?.dim ?? 0;
    const timeIdsDim = b.timeIds?.dim ?? 0;
    if (b.textEmbeds && args.textEmbeds?.length !== batch * pooledDim) badArg(`predictNoise: this UNet (SDXL) needs textEmbeds [batch, ${pooledDim}]`);
    if (b.timeIds && args.timeIds?.length !== batch * timeIdsDim) badArg(`predictNoise: this UNet (SDXL) needs timeIds [batch, ${timeIdsDim}]`);
    const step = b.fixedBatch ?? batch;
    const sampleSize = cin * h * w;
    const outSize = 4 * h * w;
    const out = new Float32Array(batch * outSize);
    for (let b0 = 0; b0 < batch; b0 += step) {
      const n = Math.min(step, batch - b0);
      const runN = b.fixedBatch ?? n;
      const feeds: Record<string, TensorValue> = {
        [b.sample]: floatTensor(b.sampleType, rows(args.sample, b0, n, runN, sampleSize), [runN, cin, h, w]),
        [b.timestep]: this.timestepTensor(b, args.timestep, runN),
        [b.encoderHiddenStates]: floatTensor(b.encoderHiddenStatesType, rows(args.encoderHiddenStates, b0, n, runN, seq * hidden), [runN, seq, hidden]),
      };
      if (b.timestepCond && args.timestepCond) {
        feeds[b.timestepCond.name] = floatTensor(b.timestepCond.type, rows(args.timestepCond, b0, n, runN, condDim), [runN, condDim]);
      }
      if (b.textEmbeds && args.textEmbeds) feeds[b.textEmbeds.name] = floatTensor(b.textEmbeds.type, rows(args.textEmbeds, b0, n, runN, pooledDim), [runN, pooledDim]);
      if (b.timeIds && args.timeIds) feeds[b.timeIds.name] = floatTensor(b.timeIds.type, rows(args.timeIds, b0, n, runN, timeIdsDim), [runN, timeIdsDim]);
      const res = toFloat32(await this.run('unet', feeds, b.output));
      if (res.length !== runN * outSize) throw new ModelError('unexpected-output', `unet returned ${res.length} values, expected ${runN}x4x${h}x${w}`, 'unet/model.onnx');
      if (n === batch && runN === n) return res;
      out.set(runN === n ? res : res.subarray(0, n * outSize), b0 * outSize);
    }
    return out;
  }

  async encodeImage(pixels: Float32Array, height: number, width: number): Promise<EncodedImage> {
    const b = this.bindings.vaeEncoder;
    if (!b) throw new ModelError('missing-component', `${this.info.name}: vae_encoder/model.onnx is missing, so images cannot be encoded`, 'vae_encoder/model.onnx');
    if (height % 8 !== 0 || width % 8 !== 0 || height < 8 || width < 8) badArg(`encodeImage: ${width}x${height} is not a multiple of 8`);
    if (pixels.length !== 3 * height * width) badArg(`encodeImage: pixels has ${pixels.length} values, expected 1x3x${height}x${width}`);
    const res = await this.run('vae_encoder', { [b.input]: floatTensor(b.inputType, pixels, [1, 3, height, width]) }, b.output);
    const data = toFloat32(res);
    const lc = this.info.latentChannels;
    const expected = (b.kind === 'parameters' ? 2 * lc : lc) * (height / 8) * (width / 8);
    if (data.length !== expected) throw new ModelError('unexpected-output', `vae_encoder returned ${res.dims.join('x')}, expected ${expected} values`, 'vae_encoder/model.onnx');
    return { kind: b.kind, data: data === pixels ? data.slice() : data };
  }

  async decodeLatents(latents: Float32Array, batch: number, latentHeight: number, latentWidth: number): Promise<Float32Array> {
    const b = this.bindings.vaeDecoder!;
    const lc = this.info.latentChannels;
    const per = lc * latentHeight * latentWidth;
    if (latents.length !== batch * per) badArg(`decodeLatents: ${latents.length} values, expected ${batch}x${lc}x${latentHeight}x${latentWidth}`);
    const H = latentHeight * 8;
    const W = latentWidth * 8;
    const outPer = 3 * H * W;
    const out = new Float32Array(batch * outPer);
    // One image at a time, as diffusers' ONNX pipelines do: the decoder's activations at full size are large.
    for (let i = 0; i < batch; i++) {
      const res = await this.run(
        'vae_decoder',
        { [b.input]: floatTensor(b.inputType, batch === 1 ? latents : latents.subarray(i * per, (i + 1) * per), [1, lc, latentHeight, latentWidth]) },
        b.output,
      );
      const f = toFloat32(res);
      if (f.length !== outPer) throw new ModelError('unexpected-output', `vae_decoder returned ${res.dims.join('x')}, expected 1x3x${H}x${W}`, 'vae_decoder/model.onnx');
      if (b.inputType === 'float16' || b.outputType === 'float16') this.checkNoOverflow(f);
      if (batch === 1) return f;
      out.set(f, i * outPer);
    }
    return out;
  }

  /**
   * SDXL's original VAE overflows in float16 (diffusers upcasts it to float32 for that reason, `force_upcast`).
   * A float16 ONNX graph cannot be upcast here, so the overflow is reported instead of decoded into a black
   * picture.
   */
  private checkNoOverflow(pixels: Float32Array): void {
    for (let i = 0; i < pixels.length; i++) {
      if (!Number.isFinite(pixels[i]!)) {
        throw new ModelError(
          'vae-overflow',
          `${this.info.name}: the float16 VAE decoder overflowed (NaN/Inf in its output), as SDXL's original VAE does in float16; use a float32 vae_decoder or an fp16-fixed VAE (such as madebyollin/sdxl-vae-fp16-fix exported to ONNX)`,
          'vae_decoder/model.onnx',
        );
      }
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of Object.values(this.sessions)) await s?.release().catch(() => undefined);
  }
}
