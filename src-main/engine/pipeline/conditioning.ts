// Prompt → text-encoder hidden states with A1111 weighting and 77-token chunking.
import { applyPromptWeights, padChunks, tokenizePrompt, type PromptTokens } from '../prompt/index.js';
import { PipelineError } from './errors.js';
import type { PipelineModel } from './types.js';

/** The UNet's added conditioning of SDXL ("text_time"), one row each. */
export interface AddedConditioning {
  /** [1, pooledDim] */
  textEmbeds: Float32Array;
  /** [1, 6] */
  timeIds: Float32Array;
}

export interface TextConditioning {
  /** [1, sequenceLength, hidden] */
  cond: Float32Array;
  /** [1, sequenceLength, hidden]; absent when no unconditional pass is needed. */
  uncond?: Float32Array;
  /** SDXL only: the added conditioning for the prompt (and the negative prompt, when uncond is set). */
  added?: { cond: AddedConditioning; uncond?: AddedConditioning };
  sequenceLength: number;
  hidden: number;
  tokenCount: number;
}

async function encodeTokens(model: PipelineModel, tokens: PromptTokens): Promise<{ hidden: Float32Array; dim: number }> {
  const len = tokens.chunks[0]?.ids.length ?? 77;
  const ids = tokens.chunks.map((c) => c.ids);
  const raw = await model.encodeText(ids);
  const k = ids.length;
  const dim = raw.length / (k * len);
  if (!Number.isInteger(dim) || dim <= 0) {
    throw new PipelineError('model-output', `text encoder returned ${raw.length} values for ${k} chunk(s) of ${len} tokens`);
  }
  const out = new Float32Array(k * len * dim);
  for (let j = 0; j < k; j++) {
    const chunk = raw.subarray(j * len * dim, (j + 1) * len * dim);
    out.set(applyPromptWeights(chunk, tokens.chunks[j]!.weights, len, dim), j * len * dim);
  }
  return { hidden: out, dim };
}

/**
 * Encodes the prompt (and, when `withUncond`, the negative prompt padded to the same number of
 * chunks). Chunks are concatenated along the sequence: a prompt of k chunks gives 77·k tokens.
 */
export async function encodePrompts(model: PipelineModel, prompt: string, negativePrompt: string, withUncond: boolean): Promise<TextConditioning> {
  let pos = tokenizePrompt(model.tokenizer, prompt);
  let neg = withUncond ? tokenizePrompt(model.tokenizer, negativePrompt) : undefined;
  if (neg) {
    const count = Math.max(pos.chunks.length, neg.chunks.length);
    pos = padChunks(pos, count, model.tokenizer);
    neg = padChunks(neg, count, model.tokenizer);
  }
  const c = await encodeTokens(model, pos);
  const u = neg ? await encodeTokens(model, neg) : undefined;
  const sequenceLength = pos.chunks.length * (pos.chunks[0]?.ids.length ?? 77);
  return {
    cond: c.hidden,
    ...(u ? { uncond: u.hidden } : {}),
    sequenceLength,
    hidden: c.dim,
    tokenCount: pos.tokenCount,
  };
}
