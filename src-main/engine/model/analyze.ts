// Turns a model folder's configs and its graphs' input/output metadata into what the engine needs to know
// (ModelInfo) and how to feed each session (bindings), or into a list of problems. Pure: no I/O here, so the
// same rules run on parsed .onnx headers (inspectModel) and on live session metadata (openModel).
// Names first, as optimum exports them, then the other exporters' names, then shape/dtype heuristics.

import { memoryFactsFrom, type ModelMemoryFacts } from './memory.js';
import type { IoMeta } from '../onnx/runtime.js';
import type { ModelIssue } from './errors.js';

export const COMPONENTS = ['text_encoder', 'unet', 'vae_encoder', 'vae_decoder'] as const;
/** Components only some architectures have (SDXL's second text encoder); reported only when present. */
export const OPTIONAL_COMPONENTS = ['text_encoder_2'] as const;
export type CoreComponentName = (typeof COMPONENTS)[number];
export type ComponentName = CoreComponentName | (typeof OPTIONAL_COMPONENTS)[number];

export type Json = Record<string, unknown>;

export interface GraphIo {
  inputs: readonly IoMeta[];
  outputs: readonly IoMeta[];
}

export interface FolderFacts {
  name: string;
  modelIndex: Json | null;
  schedulerConfig: Json | null;
  configs: Partial<Record<ComponentName, Json | null>>;
  graphs: Partial<Record<ComponentName, GraphIo | null>>;
  /** Extra sub-folders present that only other architectures have (text_encoder_2, transformer, ...). */
  foreignComponents: string[];
}

export type ModelFamily = 'sd1' | 'sd2' | 'sdxl' | 'sd3' | 'unknown';
export type FloatType = 'float32' | 'float16';

export interface TextEncoderBinding {
  input: string;
  inputType: 'int32' | 'int64';
  output: string;
  outputType: FloatType;
  fixedBatch: number | null;
  /** Some exporters add an attention_mask input; SD pipelines pass none, which is all ones. */
  attentionMask: { name: string; type: 'int32' | 'int64' | FloatType } | null;
}

/** SDXL's second text encoder (CLIPTextModelWithProjection): penultimate hidden states and the pooled projection. */
export interface TextEncoder2Binding {
  input: string;
  inputType: 'int32' | 'int64';
  hidden: string;
  hiddenType: FloatType;
  pooled: string;
  pooledType: FloatType;
  fixedBatch: number | null;
}

export interface UnetBinding {
  sample: string;
  sampleType: FloatType;
  timestep: string;
  timestepType: 'int64' | 'int32' | FloatType;
  /** 0: scalar []; 1: [n] */
  timestepRank: 0 | 1;
  /** A fixed length of the timestep's only dim (1 for "[1]" exports), null when dynamic. */
  timestepFixedLength: number | null;
  encoderHiddenStates: string;
  encoderHiddenStatesType: FloatType;
  timestepCond: { name: string; type: FloatType; dim: number } | null;
  /** SDXL's added conditioning ("text_time"): the pooled text embedding and the six size/crop numbers. */
  textEmbeds: { name: string; type: FloatType; dim: number } | null;
  timeIds: { name: string; type: FloatType; dim: number } | null;
  output: string;
  outputType: FloatType;
  fixedBatch: number | null;
}

export interface VaeEncoderBinding {
  input: string;
  inputType: FloatType;
  output: string;
  outputType: FloatType;
  kind: 'sample' | 'parameters';
  outputName: 'latent_sample' | 'latent_parameters';
  fixedBatch: number | null;
}

export interface VaeDecoderBinding {
  input: string;
  inputType: FloatType;
  output: string;
  outputType: FloatType;
  fixedBatch: number | null;
}

export interface Bindings {
  textEncoder: TextEncoderBinding | null;
  textEncoder2: TextEncoder2Binding | null;
  unet: UnetBinding | null;
  vaeEncoder: VaeEncoderBinding | null;
  vaeDecoder: VaeDecoderBinding | null;
}

/** Everything of ModelInfo that does not depend on the session's backend. */
export interface ModelFacts {
  name: string;
  family: ModelFamily;
  variant: string;
  dtype: FloatType;
  unetInChannels: number;
  isInpainting: boolean;
  timestepCondDim?: number;
  predictionType: string;
  textHiddenSize: number;
  textMaxLength: number;
  unetMaxBatch: number | null;
  vaeScalingFactor: number;
  latentChannels: number;
  vaeEncoder: 'latent_sample' | 'latent_parameters' | null;
  schedulerClassName: string;
  schedulerConfig: Json;
  /** The UNet timestep input as the graph declares it, e.g. 'int64[batch]', 'float32[]'. */
  timestepInput: string;
  inputIdsType: 'int32' | 'int64';
  /**
   * The resolution the model was trained at: unet/config.json `sample_size` × 8 (what diffusers uses when a
   * request gives no size); undefined when the config does not say.
   */
  nativeSize?: number;
  /** SDXL only: what the second text encoder and the UNet's added conditioning take. */
  sdxl?: SdxlFacts;
  /** What the memory estimate needs (UNet attention levels, VAE channels and tile size). */
  memory: ModelMemoryFacts;
}

export interface SdxlFacts {
  /** Width of text_encoder_2's hidden states; encoder_hidden_states is textHiddenSize + this wide. */
  textHiddenSize2: number;
  /** Width of text_encoder_2's text_embeds (the UNet's text_embeds input). */
  pooledDim: number;
  /** The UNet's time_ids length (6: original size, crop top-left, target size). */
  timeIdsDim: number;
  /** model_index.json force_zeros_for_empty_prompt (diffusers' default: true). */
  forceZerosForEmptyPrompt: boolean;
  /** The output of each text encoder the pipeline uses (the penultimate hidden states). */
  textEncoderOutput: string;
  textEncoder2Output: string;
  inputIdsType2: 'int32' | 'int64';
}

export interface Analysis {
  facts: ModelFacts | null;
  bindings: Bindings;
  issues: ModelIssue[];
  warnings: string[];
}

export const DEFAULT_SCALING_FACTOR = 0.18215;
const SDXL_UNET_INPUTS = ['text_embeds', 'time_ids'];

function isFloat(t: string): t is FloatType {
  return t === 'float32' || t === 'float16';
}

function fixedDim(d: number | string | undefined): number | null {
  return typeof d === 'number' && d > 0 ? d : null;
}

function fmtIo(m: IoMeta): string {
  return `${m.name} ${m.type}[${m.shape.join(',')}]`;
}

function pick(list: readonly IoMeta[], names: readonly string[]): IoMeta | undefined {
  for (const n of names) {
    const m = list.find((x) => x.name === n);
    if (m) return m;
  }
  return undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function analyze(f: FolderFacts): Analysis {
  const issues: ModelIssue[] = [];
  const warnings: string[] = [];
  const bindings: Bindings = { textEncoder: null, textEncoder2: null, unet: null, vaeEncoder: null, vaeDecoder: null };
  const onnx = (c: ComponentName): string => `${c}/model.onnx`;
  const cfgFile = (c: ComponentName): string => `${c}/config.json`;

  // ---- architecture from model_index.json and the folder's components
  const className = typeof f.modelIndex?.['_class_name'] === 'string' ? (f.modelIndex['_class_name'] as string) : '';
  let family: ModelFamily = 'unknown';
  if (/StableDiffusion3|Flux|PixArt|Sana/u.test(className) || f.foreignComponents.includes('transformer')) family = 'sd3';
  else if (/XL/u.test(className) || f.foreignComponents.includes('text_encoder_2')) family = 'sdxl';
  // An SDXL UNet is recognised by its added-conditioning inputs or its config even without model_index.json.
  if (family === 'unknown') {
    const sdxlInputs = f.graphs.unet?.inputs.some((i) => SDXL_UNET_INPUTS.includes(i.name)) ?? false;
    if (sdxlInputs || f.configs.unet?.['addition_embed_type'] === 'text_time') family = 'sdxl';
  }
  const sdxl = family === 'sdxl';
  if (family === 'sd3') {
    issues.push({
      code: 'unsupported-architecture',
      file: 'model_index.json',
      message: `${className ? `model_index.json names ${className}` : 'transformer/ is present'}: not a Stable Diffusion 1.x/2.x/XL pipeline; it is not supported`,
    });
  }

  // ---- scheduler
  let schedulerClassName = '';
  let predictionType = 'epsilon';
  const sc = f.schedulerConfig;
  if (sc) {
    if (typeof sc['_class_name'] !== 'string' || sc['_class_name'] === '') {
      issues.push({ code: 'invalid-config', file: 'scheduler/scheduler_config.json', message: 'scheduler/scheduler_config.json has no "_class_name" string' });
    } else schedulerClassName = sc['_class_name'];
    const pt = sc['prediction_type'];
    if (pt !== undefined && pt !== null) {
      if (pt === 'epsilon' || pt === 'v_prediction' || pt === 'sample') predictionType = pt;
      else issues.push({ code: 'invalid-config', file: 'scheduler/scheduler_config.json', message: `scheduler/scheduler_config.json: unknown prediction_type ${JSON.stringify(pt)}` });
    }
    const ntt = sc['num_train_timesteps'];
    if (ntt !== undefined && !(typeof ntt === 'number' && Number.isInteger(ntt) && ntt > 0)) {
      issues.push({ code: 'invalid-config', file: 'scheduler/scheduler_config.json', message: `scheduler/scheduler_config.json: num_train_timesteps must be a positive integer, got ${JSON.stringify(ntt)}` });
    }
  }

  // ---- text encoder
  const teCfg = f.configs.text_encoder ?? null;
  let textHiddenSize = 0;
  let textMaxLength = 77;
  let inputIdsType: 'int32' | 'int64' = 'int32';
  const te = f.graphs.text_encoder;
  if (te) {
    const ids = pick(te.inputs, ['input_ids']) ?? (te.inputs.length === 1 ? te.inputs[0] : undefined);
    const mask = pick(te.inputs, ['attention_mask']);
    const maskOk = mask !== undefined && ['int32', 'int64', 'float32', 'float16'].includes(mask.type) && mask.shape.length === 2;
    for (const i of te.inputs) {
      if (i !== ids && !(i === mask && maskOk)) issues.push({ code: 'unexpected-input', file: onnx('text_encoder'), message: `${onnx('text_encoder')} has an unexpected input ${fmtIo(i)} (expected only input_ids)` });
    }
    // SDXL conditions on the penultimate layer's hidden states (diffusers: hidden_states[-2]).
    const out = sdxl
      ? penultimateHiddenStates(te.outputs)
      : (pick(te.outputs, ['last_hidden_state', 'text_embeddings']) ?? te.outputs.find((o) => o.shape.length === 3 && isFloat(o.type)));
    if (!ids) issues.push({ code: 'missing-input', file: onnx('text_encoder'), message: `${onnx('text_encoder')} has no input_ids input` });
    else if (ids.type !== 'int32' && ids.type !== 'int64') {
      issues.push({ code: 'unexpected-input', file: onnx('text_encoder'), message: `${onnx('text_encoder')}: input_ids is ${ids.type}, expected int32 or int64` });
    } else if (ids.shape.length !== 2) {
      issues.push({ code: 'unexpected-input', file: onnx('text_encoder'), message: `${onnx('text_encoder')}: input_ids has rank ${ids.shape.length}, expected [batch, sequence]` });
    }
    if (!out && sdxl) {
      issues.push({ code: 'unsupported-architecture', file: onnx('text_encoder'), message: noHiddenStates('text_encoder', te.outputs) });
    } else if (!out) {
      issues.push({ code: 'unexpected-output', file: onnx('text_encoder'), message: `${onnx('text_encoder')} has no last_hidden_state output (outputs: ${te.outputs.map(fmtIo).join('; ')})` });
    } else if (!isFloat(out.type)) {
      issues.push({ code: 'unexpected-output', file: onnx('text_encoder'), message: `${onnx('text_encoder')}: ${out.name} is ${out.type}, expected float32 or float16` });
    }
    if (ids && out && (ids.type === 'int32' || ids.type === 'int64') && isFloat(out.type)) {
      inputIdsType = ids.type;
      bindings.textEncoder = {
        input: ids.name,
        inputType: ids.type,
        output: out.name,
        outputType: out.type,
        fixedBatch: fixedDim(ids.shape[0]),
        attentionMask: mask && maskOk ? { name: mask.name, type: mask.type as 'int32' | 'int64' | FloatType } : null,
      };
      textHiddenSize = fixedDim(out.shape[2]) ?? 0;
      const seq = fixedDim(ids.shape[1]);
      if (seq !== null) textMaxLength = seq;
    }
  }
  if (teCfg) {
    const hs = teCfg['hidden_size'];
    if (hs !== undefined && !(typeof hs === 'number' && Number.isInteger(hs) && hs > 0)) {
      issues.push({ code: 'invalid-config', file: cfgFile('text_encoder'), message: `${cfgFile('text_encoder')}: hidden_size must be a positive integer, got ${JSON.stringify(hs)}` });
    } else if (typeof hs === 'number') {
      if (textHiddenSize === 0) textHiddenSize = hs;
      else if (hs !== textHiddenSize) {
        issues.push({ code: 'config-mismatch', file: cfgFile('text_encoder'), message: `${cfgFile('text_encoder')} says hidden_size ${hs} but ${onnx('text_encoder')} outputs ${textHiddenSize}` });
      }
    }
    const mpe = num(teCfg['max_position_embeddings']);
    if (mpe !== undefined && bindings.textEncoder && fixedDim(f.graphs.text_encoder?.inputs.find((i) => i.name === bindings.textEncoder!.input)?.shape[1]) === null) {
      textMaxLength = Math.min(77, mpe);
    }
  }

  // ---- text_encoder_2 (SDXL)
  let sdxlFacts: SdxlFacts | undefined;
  if (sdxl) {
    const r = analyzeTextEncoder2(f, issues);
    bindings.textEncoder2 = r.binding;
    if (!f.foreignComponents.includes('tokenizer_2')) {
      issues.push({ code: 'missing-file', file: 'tokenizer_2/vocab.json', message: 'tokenizer_2/vocab.json is missing: SDXL needs its second tokenizer (tokenizer_2/)' });
    }
    const fz = f.modelIndex?.['force_zeros_for_empty_prompt'];
    if (r.binding && bindings.textEncoder) {
      sdxlFacts = {
        textHiddenSize2: r.hidden,
        pooledDim: r.pooled,
        timeIdsDim: 6,
        forceZerosForEmptyPrompt: typeof fz === 'boolean' ? fz : true,
        textEncoderOutput: bindings.textEncoder.output,
        textEncoder2Output: r.binding.hidden,
        inputIdsType2: r.binding.inputType,
      };
    }
  }

  // ---- unet
  const unetCfg = f.configs.unet ?? null;
  let unetInChannels = 0;
  let unetMaxBatch: number | null = null;
  let timestepCondDim: number | undefined;
  let timestepInput = '';
  let dtype: FloatType = 'float32';
  const un = f.graphs.unet;
  if (un) {
    const file = onnx('unet');
    const textEmbeds = pick(un.inputs, ['text_embeds']);
    const timeIds = pick(un.inputs, ['time_ids']);
    const added = [textEmbeds, timeIds].filter((x): x is IoMeta => x !== undefined);
    if (sdxl && added.length < 2) {
      issues.push({ code: 'missing-input', file, message: `${file} has no ${textEmbeds ? 'time_ids' : 'text_embeds'} input, which an SDXL UNet takes (inputs: ${un.inputs.map(fmtIo).join('; ')})` });
    }
    for (const m of added) {
      if (!isFloat(m.type) || m.shape.length !== 2) issues.push({ code: 'unexpected-input', file, message: `${file}: ${fmtIo(m)} is not a float [batch, n]` });
    }
    const timeIdsDim = timeIds ? fixedDim(timeIds.shape[1]) : null;
    if (timeIdsDim !== null && timeIdsDim !== 6) {
      issues.push({
        code: 'unsupported-architecture',
        file,
        message: `${file}: time_ids takes ${timeIdsDim} values${timeIdsDim === 5 ? ' (an SDXL refiner with aesthetic score)' : ''}; only SDXL base models (6: original size, crop, target size) are supported`,
      });
    }
    const pooledIn = textEmbeds ? fixedDim(textEmbeds.shape[1]) : null;
    if (sdxlFacts && pooledIn !== null && sdxlFacts.pooledDim > 0 && pooledIn !== sdxlFacts.pooledDim) {
      issues.push({ code: 'config-mismatch', file, message: `${file} expects text_embeds of width ${pooledIn} but text_encoder_2/model.onnx gives ${sdxlFacts.pooledDim}` });
    }
    if (sdxlFacts && sdxlFacts.pooledDim === 0 && pooledIn !== null) sdxlFacts.pooledDim = pooledIn;
    const sample = pick(un.inputs, ['sample']) ?? un.inputs.find((i) => i.shape.length === 4 && isFloat(i.type));
    const ts =
      pick(un.inputs, ['timestep', 'timesteps', 't']) ??
      un.inputs.find((i) => i !== sample && i.shape.length <= 1 && !i.name.includes('cond'));
    const ehs =
      pick(un.inputs, ['encoder_hidden_states', 'context']) ??
      un.inputs.find((i) => i !== sample && i.shape.length === 3 && isFloat(i.type));
    const cond = pick(un.inputs, ['timestep_cond', 'w_embedding']);
    const known = new Set([sample, ts, ehs, cond, ...added].filter((x): x is IoMeta => x !== undefined));
    for (const i of un.inputs) {
      if (!known.has(i)) issues.push({ code: 'unexpected-input', file, message: `${file} has an unexpected input ${fmtIo(i)}` });
    }
    for (const [what, m] of [
      ['sample', sample],
      ['timestep', ts],
      ['encoder_hidden_states', ehs],
    ] as const) {
      if (!m) issues.push({ code: 'missing-input', file, message: `${file} has no ${what} input (inputs: ${un.inputs.map(fmtIo).join('; ')})` });
    }
    const out = pick(un.outputs, ['out_sample', 'latent', 'sample']) ?? (un.outputs.length === 1 ? un.outputs[0] : undefined);
    if (!out) issues.push({ code: 'unexpected-output', file, message: `${file} has no out_sample output (outputs: ${un.outputs.map(fmtIo).join('; ')})` });
    let ok = true;
    if (sample && (!isFloat(sample.type) || sample.shape.length !== 4)) {
      issues.push({ code: 'unexpected-input', file, message: `${file}: sample is ${fmtIo(sample)}, expected a float [batch, channels, height, width]` });
      ok = false;
    }
    if (ts && !(ts.shape.length <= 1 && ['int64', 'int32', 'float32', 'float16'].includes(ts.type))) {
      issues.push({ code: 'unexpected-input', file, message: `${file}: timestep is ${fmtIo(ts)}, expected int64/float [batch] or a float scalar` });
      ok = false;
    }
    if (ehs && (!isFloat(ehs.type) || ehs.shape.length !== 3)) {
      issues.push({ code: 'unexpected-input', file, message: `${file}: encoder_hidden_states is ${fmtIo(ehs)}, expected a float [batch, sequence, hidden]` });
      ok = false;
    }
    if (cond && (!isFloat(cond.type) || cond.shape.length !== 2)) {
      issues.push({ code: 'unexpected-input', file, message: `${file}: timestep_cond is ${fmtIo(cond)}, expected a float [batch, dim]` });
      ok = false;
    }
    if (out && (!isFloat(out.type) || out.shape.length !== 4)) {
      issues.push({ code: 'unexpected-output', file, message: `${file}: output ${fmtIo(out)} is not a float [batch, 4, height, width]` });
      ok = false;
    }
    if (sample && ts && ehs && out && ok) {
      dtype = sample.type as FloatType;
      unetInChannels = fixedDim(sample.shape[1]) ?? 0;
      unetMaxBatch = fixedDim(sample.shape[0]);
      const ehsDim = fixedDim(ehs.shape[2]);
      const contextDim = textHiddenSize + (sdxlFacts?.textHiddenSize2 ?? 0);
      if (ehsDim !== null && textHiddenSize > 0 && ehsDim !== contextDim) {
        issues.push({
          code: 'config-mismatch',
          file,
          message: `${file} expects encoder_hidden_states of width ${ehsDim} but ${sdxlFacts ? `the text encoders give ${textHiddenSize} + ${sdxlFacts.textHiddenSize2}` : `${onnx('text_encoder')} gives ${textHiddenSize}`}`,
        });
      }
      if (cond) {
        timestepCondDim = fixedDim(cond.shape[1]) ?? undefined;
      }
      timestepInput = `${ts.type}[${ts.shape.length === 0 ? '' : typeof ts.shape[0] === 'number' && ts.shape[0] > 0 ? ts.shape[0] : 'batch'}]`;
      bindings.unet = {
        sample: sample.name,
        sampleType: sample.type as FloatType,
        timestep: ts.name,
        timestepType: ts.type as UnetBinding['timestepType'],
        timestepRank: ts.shape.length === 0 ? 0 : 1,
        timestepFixedLength: ts.shape.length === 1 ? fixedDim(ts.shape[0]) : null,
        encoderHiddenStates: ehs.name,
        encoderHiddenStatesType: ehs.type as FloatType,
        timestepCond: cond ? { name: cond.name, type: cond.type as FloatType, dim: timestepCondDim ?? 0 } : null,
        textEmbeds: textEmbeds && isFloat(textEmbeds.type) ? { name: textEmbeds.name, type: textEmbeds.type, dim: sdxlFacts?.pooledDim ?? pooledIn ?? 0 } : null,
        timeIds: timeIds && isFloat(timeIds.type) ? { name: timeIds.name, type: timeIds.type, dim: 6 } : null,
        output: out.name,
        outputType: out.type as FloatType,
        fixedBatch: unetMaxBatch,
      };
      const outCh = fixedDim(out.shape[1]);
      if (outCh !== null && outCh !== 4) {
        issues.push({ code: 'unexpected-output', file, message: `${file}: ${out.name} has ${outCh} channels, expected 4` });
      }
    }
  }
  if (unetCfg) {
    const file = cfgFile('unet');
    const ic = unetCfg['in_channels'];
    if (ic !== undefined && !(typeof ic === 'number' && Number.isInteger(ic) && ic > 0)) {
      issues.push({ code: 'invalid-config', file, message: `${file}: in_channels must be a positive integer, got ${JSON.stringify(ic)}` });
    } else if (typeof ic === 'number') {
      if (unetInChannels === 0) unetInChannels = ic;
      else if (ic !== unetInChannels) {
        issues.push({ code: 'config-mismatch', file, message: `${file} says in_channels ${ic} but ${onnx('unet')} takes ${unetInChannels} channels` });
      }
    }
    const tcp = unetCfg['time_cond_proj_dim'];
    if (tcp !== undefined && tcp !== null && !(typeof tcp === 'number' && Number.isInteger(tcp) && tcp > 0)) {
      issues.push({ code: 'invalid-config', file, message: `${file}: time_cond_proj_dim must be a positive integer or null, got ${JSON.stringify(tcp)}` });
    } else if (typeof tcp === 'number') {
      if (!bindings.unet?.timestepCond && f.graphs.unet) {
        issues.push({ code: 'config-mismatch', file, message: `${file} sets time_cond_proj_dim ${tcp} but ${onnx('unet')} has no timestep_cond input` });
      } else if (timestepCondDim === undefined) timestepCondDim = tcp;
      else if (tcp !== timestepCondDim) {
        issues.push({ code: 'config-mismatch', file, message: `${file} says time_cond_proj_dim ${tcp} but ${onnx('unet')} takes timestep_cond of width ${timestepCondDim}` });
      }
    }
    const aet = unetCfg['addition_embed_type'];
    if (aet !== undefined && aet !== null && aet !== 'text_time') {
      issues.push({ code: 'unsupported-architecture', file, message: `${file}: addition_embed_type ${JSON.stringify(aet)} is not supported (only SDXL's "text_time")` });
    }
    if (unetCfg['requires_aesthetics_score'] === true) {
      issues.push({ code: 'unsupported-architecture', file, message: `${file}: requires_aesthetics_score is set (an SDXL refiner); only SDXL base models are supported` });
    }
  }
  if (bindings.unet?.textEmbeds && bindings.unet.textEmbeds.dim === 0) {
    issues.push({ code: 'invalid-config', file: cfgFile('unet'), message: `${onnx('unet')} takes text_embeds of unknown width and text_encoder_2 does not say its projection_dim` });
  }
  if (bindings.unet?.timestepCond) {
    if (timestepCondDim === undefined) {
      issues.push({ code: 'invalid-config', file: cfgFile('unet'), message: `${onnx('unet')} has a timestep_cond input of unknown width and ${cfgFile('unet')} has no time_cond_proj_dim` });
    } else bindings.unet.timestepCond.dim = timestepCondDim;
  }
  if (f.graphs.unet && unetInChannels !== 0 && unetInChannels !== 4 && unetInChannels !== 9) {
    issues.push({ code: 'unexpected-input', file: onnx('unet'), message: `${onnx('unet')}: sample has ${unetInChannels} channels; only 4 (text-to-image) and 9 (inpainting) are supported` });
  }
  if (f.graphs.unet && bindings.unet && unetInChannels === 0) {
    issues.push({ code: 'invalid-config', file: cfgFile('unet'), message: `${onnx('unet')} has a dynamic channel dim and ${cfgFile('unet')} has no in_channels` });
  }

  // ---- VAE
  let latentChannels = 4;
  const vd = f.graphs.vae_decoder;
  if (vd) {
    const file = onnx('vae_decoder');
    const inp = pick(vd.inputs, ['latent_sample', 'latent', 'z']) ?? (vd.inputs.length === 1 ? vd.inputs[0] : undefined);
    for (const i of vd.inputs) if (i !== inp) issues.push({ code: 'unexpected-input', file, message: `${file} has an unexpected input ${fmtIo(i)}` });
    const out = pick(vd.outputs, ['sample', 'images', 'image']) ?? (vd.outputs.length === 1 ? vd.outputs[0] : undefined);
    if (!inp) issues.push({ code: 'missing-input', file, message: `${file} has no latent_sample input` });
    if (!out) issues.push({ code: 'unexpected-output', file, message: `${file} has no sample output` });
    if (inp && out) {
      if (!isFloat(inp.type) || inp.shape.length !== 4 || !isFloat(out.type) || out.shape.length !== 4) {
        issues.push({ code: 'unexpected-input', file, message: `${file}: expected float [B,4,h,w] -> [B,3,H,W], got ${fmtIo(inp)} -> ${fmtIo(out)}` });
      } else {
        latentChannels = fixedDim(inp.shape[1]) ?? 4;
        bindings.vaeDecoder = { input: inp.name, inputType: inp.type as FloatType, output: out.name, outputType: out.type as FloatType, fixedBatch: fixedDim(inp.shape[0]) };
      }
    }
  }
  if (latentChannels !== 4) {
    issues.push({ code: 'unsupported-architecture', file: onnx('vae_decoder'), message: `${onnx('vae_decoder')} takes ${latentChannels} latent channels; only 4 are supported` });
  }
  let vaeEncoder: 'latent_sample' | 'latent_parameters' | null = null;
  const ve = f.graphs.vae_encoder;
  if (ve) {
    const file = onnx('vae_encoder');
    const inp = pick(ve.inputs, ['sample', 'images', 'image']) ?? (ve.inputs.length === 1 ? ve.inputs[0] : undefined);
    for (const i of ve.inputs) if (i !== inp) issues.push({ code: 'unexpected-input', file, message: `${file} has an unexpected input ${fmtIo(i)}` });
    const out = pick(ve.outputs, ['latent_parameters', 'latent_sample', 'latent', 'latent_dist']) ?? (ve.outputs.length === 1 ? ve.outputs[0] : undefined);
    if (!inp) issues.push({ code: 'missing-input', file, message: `${file} has no sample input` });
    if (!out) issues.push({ code: 'unexpected-output', file, message: `${file} has no latent_parameters / latent_sample output` });
    if (inp && out) {
      const ch = fixedDim(out.shape[1]);
      let kind: 'sample' | 'parameters' | null = null;
      if (ch === 2 * latentChannels) kind = 'parameters';
      else if (ch === latentChannels) kind = 'sample';
      else if (ch === null) kind = out.name === 'latent_parameters' ? 'parameters' : 'sample';
      if (!isFloat(inp.type) || inp.shape.length !== 4 || !isFloat(out.type) || out.shape.length !== 4 || kind === null) {
        issues.push({ code: 'unexpected-output', file, message: `${file}: expected float [B,3,H,W] -> [B,${latentChannels} or ${2 * latentChannels},h,w], got ${fmtIo(inp)} -> ${fmtIo(out)}` });
      } else {
        vaeEncoder = kind === 'parameters' ? 'latent_parameters' : 'latent_sample';
        bindings.vaeEncoder = {
          input: inp.name,
          inputType: inp.type as FloatType,
          output: out.name,
          outputType: out.type as FloatType,
          kind,
          outputName: vaeEncoder,
          fixedBatch: fixedDim(inp.shape[0]),
        };
      }
    }
  } else if (f.graphs.vae_encoder === null) {
    warnings.push('vae_encoder/model.onnx is missing: text-to-image works, image-to-image and inpainting do not');
  }

  // ---- VAE scaling factor: vae_decoder/config.json, else vae_encoder/config.json, else SD's 0.18215
  let vaeScalingFactor = DEFAULT_SCALING_FACTOR;
  let sfFound = false;
  for (const c of ['vae_decoder', 'vae_encoder'] as const) {
    const cfg = f.configs[c];
    if (!cfg || sfFound) continue;
    const sf = cfg['scaling_factor'];
    if (sf === undefined || sf === null) continue;
    if (typeof sf !== 'number' || !Number.isFinite(sf) || sf <= 0) {
      issues.push({ code: 'invalid-config', file: cfgFile(c), message: `${cfgFile(c)}: scaling_factor must be a positive number, got ${JSON.stringify(sf)}` });
    } else {
      vaeScalingFactor = sf;
      sfFound = true;
    }
    const lc = cfg['latent_channels'];
    if (lc !== undefined && lc !== latentChannels) {
      issues.push({ code: 'config-mismatch', file: cfgFile(c), message: `${cfgFile(c)} says latent_channels ${JSON.stringify(lc)} but the VAE graphs use ${latentChannels}` });
    }
  }
  if (f.graphs.vae_decoder && !f.configs.vae_decoder && !f.configs.vae_encoder) {
    warnings.push(`vae_decoder/config.json is missing: using the SD scaling factor ${DEFAULT_SCALING_FACTOR}`);
  }

  // ---- family
  if (family === 'unknown' && textHiddenSize > 0) {
    const act = teCfg?.['hidden_act'];
    if (textHiddenSize === 1024 || act === 'gelu') family = 'sd2';
    else family = 'sd1';
  }

  const sampleSize = unetCfg?.['sample_size'];
  const nativeSize = typeof sampleSize === 'number' && Number.isInteger(sampleSize) && sampleSize > 0 ? sampleSize * 8 : undefined;

  const blocking = issues.length > 0;
  const facts: ModelFacts | null =
    bindings.textEncoder && bindings.unet && bindings.vaeDecoder && !blocking
      ? {
          name: f.name,
          family,
          variant: '',
          dtype,
          unetInChannels,
          isInpainting: unetInChannels === 9,
          ...(timestepCondDim !== undefined ? { timestepCondDim } : {}),
          predictionType,
          textHiddenSize,
          textMaxLength,
          unetMaxBatch,
          vaeScalingFactor,
          latentChannels,
          vaeEncoder,
          schedulerClassName,
          schedulerConfig: sc ?? {},
          timestepInput,
          inputIdsType,
          ...(nativeSize !== undefined ? { nativeSize } : {}),
          ...(sdxlFacts ? { sdxl: sdxlFacts } : {}),
          memory: memoryFactsFrom(unetCfg, f.configs.vae_decoder ?? f.configs.vae_encoder),
        }
      : null;
  if (facts) facts.variant = variantName(facts);
  return { facts, bindings, issues, warnings };
}

/** hidden_states.{L-1} of outputs hidden_states.0 … hidden_states.L (optimum's names), i.e. diffusers' hidden_states[-2]. */
function penultimateHiddenStates(outputs: readonly IoMeta[]): IoMeta | undefined {
  let last = -1;
  for (const o of outputs) {
    const m = /^hidden_states\.(\d+)$/u.exec(o.name);
    if (m) last = Math.max(last, Number(m[1]));
  }
  return last >= 1 ? outputs.find((o) => o.name === `hidden_states.${last - 1}`) : undefined;
}

function noHiddenStates(c: ComponentName, outputs: readonly IoMeta[]): string {
  return `${c}/model.onnx has no hidden_states.N outputs: SDXL conditions on the penultimate hidden states, so the encoder must be exported with output_hidden_states (outputs: ${outputs.map(fmtIo).join('; ')})`;
}

function analyzeTextEncoder2(f: FolderFacts, issues: ModelIssue[]): { binding: TextEncoder2Binding | null; hidden: number; pooled: number } {
  const file = 'text_encoder_2/model.onnx';
  const g = f.graphs.text_encoder_2;
  const none = { binding: null, hidden: 0, pooled: 0 };
  if (g === undefined && f.foreignComponents.includes('text_encoder_2')) return none; // present but unreadable: already reported
  if (!g) {
    issues.push({ code: 'missing-file', file, message: `${file} is missing: SDXL needs its second text encoder` });
    return none;
  }
  const ids = pick(g.inputs, ['input_ids']) ?? (g.inputs.length === 1 ? g.inputs[0] : undefined);
  for (const i of g.inputs) if (i !== ids) issues.push({ code: 'unexpected-input', file, message: `${file} has an unexpected input ${fmtIo(i)} (expected only input_ids)` });
  if (!ids || (ids.type !== 'int32' && ids.type !== 'int64') || ids.shape.length !== 2) {
    issues.push({ code: 'unexpected-input', file, message: `${file}: expected an int32/int64 input_ids [batch, sequence], got ${g.inputs.map(fmtIo).join('; ') || 'no inputs'}` });
    return none;
  }
  const hidden = penultimateHiddenStates(g.outputs);
  const pooled = pick(g.outputs, ['text_embeds', 'text_embeddings']) ?? g.outputs.find((o) => o.shape.length === 2 && isFloat(o.type));
  if (!hidden) {
    issues.push({ code: 'unsupported-architecture', file, message: noHiddenStates('text_encoder_2', g.outputs) });
    return none;
  }
  if (!pooled) {
    issues.push({ code: 'unexpected-output', file, message: `${file} has no text_embeds output (the pooled projection SDXL's UNet takes; outputs: ${g.outputs.map(fmtIo).join('; ')})` });
    return none;
  }
  if (!isFloat(hidden.type) || hidden.shape.length !== 3 || !isFloat(pooled.type) || pooled.shape.length !== 2) {
    issues.push({ code: 'unexpected-output', file, message: `${file}: expected float ${hidden.name} [batch, sequence, hidden] and ${pooled.name} [batch, n], got ${fmtIo(hidden)}; ${fmtIo(pooled)}` });
    return none;
  }
  const cfgHidden = num(f.configs.text_encoder_2?.['hidden_size']);
  const cfgProj = num(f.configs.text_encoder_2?.['projection_dim']);
  return {
    binding: { input: ids.name, inputType: ids.type, hidden: hidden.name, hiddenType: hidden.type, pooled: pooled.name, pooledType: pooled.type, fixedBatch: fixedDim(ids.shape[0]) },
    hidden: fixedDim(hidden.shape[2]) ?? cfgHidden ?? 0,
    pooled: fixedDim(pooled.shape[1]) ?? cfgProj ?? 0,
  };
}

export function variantName(f: Pick<ModelFacts, 'family' | 'isInpainting' | 'timestepCondDim' | 'dtype' | 'predictionType' | 'unetMaxBatch'>): string {
  const parts: string[] = [f.family];
  if (f.isInpainting) parts.push('inpainting');
  if (f.timestepCondDim !== undefined) parts.push('lcm');
  if (f.predictionType === 'v_prediction') parts.push('v');
  if (f.dtype === 'float16') parts.push('fp16');
  if (f.unetMaxBatch !== null) parts.push(`unet-batch-${f.unetMaxBatch}`);
  return parts.join('-');
}
