// SDXL's conditioning (diffusers StableDiffusionXLPipeline.encode_prompt and _get_add_time_ids):
// - encoder_hidden_states: the penultimate hidden states of both text encoders, concatenated per token
//   (768 + 1280 = 2048 wide for SDXL), each encoder's output weighted per chunk as on SD 1.x (A1111
//   emphasis, 75-token chunks; ComfyUI's SDXL text encoder weights each encoder's output the same way);
// - text_embeds: text_encoder_2's pooled projection (of the first chunk, as ComfyUI does for long prompts);
// - time_ids: original size, crop top-left, target size = [H, W, 0, 0, H, W];
// - force_zeros_for_empty_prompt: without a negative prompt, the negative states and pooled are zeros.
import { applyPromptWeights, padChunks, tokenizePrompt, type PromptTokenizer, type PromptTokens } from '../prompt/index.js';
import type { AddedConditioning, TextConditioning } from './conditioning.js';
import { PipelineError } from './errors.js';
import type { PipelineModel, SdxlPipelineFacts } from './types.js';

interface EncodedPrompt {
  /** [1, chunks·77, hidden1 + hidden2] */
  hidden: Float32Array;
  /** [1, pooledDim] */
  pooled: Float32Array;
}

function weighted(raw: Float32Array, tokens: PromptTokens, len: number, dim: number): Float32Array {
  const out = new Float32Array(raw.length);
  tokens.chunks.forEach((c, j) => out.set(applyPromptWeights(raw.subarray(j * len * dim, (j + 1) * len * dim), c.weights, len, dim), j * len * dim));
  return out;
}

async function encodeBoth(model: PipelineModel, sdxl: SdxlPipelineFacts, t1: PromptTokens, t2: PromptTokens): Promise<EncodedPrompt> {
  const len = t1.chunks[0]!.ids.length;
  if (t2.chunks.length !== t1.chunks.length || t2.chunks[0]!.ids.length !== len) {
    throw new PipelineError('model-output', 'the two SDXL tokenizers split the prompt differently');
  }
  const d1 = model.info.textHiddenSize;
  const d2 = sdxl.textHiddenSize2;
  const h1 = weighted(await model.encodeText(t1.chunks.map((c) => c.ids)), t1, len, d1);
  const e2 = await model.encodeText2!(t2.chunks.map((c) => c.ids));
  const h2 = weighted(e2.hidden, t2, len, d2);
  const rows = t1.chunks.length * len;
  if (h1.length !== rows * d1 || h2.length !== rows * d2) {
    throw new PipelineError('model-output', `text encoders returned ${h1.length} and ${h2.length} values for ${rows} tokens`);
  }
  // torch.concat([te1, te2], dim=-1): each token's te1 vector, then its te2 vector.
  const hidden = new Float32Array(rows * (d1 + d2));
  for (let r = 0; r < rows; r++) {
    hidden.set(h1.subarray(r * d1, (r + 1) * d1), r * (d1 + d2));
    hidden.set(h2.subarray(r * d2, (r + 1) * d2), r * (d1 + d2) + d1);
  }
  return { hidden, pooled: e2.pooled.slice(0, sdxl.pooledDim) };
}

/** diffusers _get_add_time_ids: original_size + crops_coords_top_left + target_size, all (height, width). */
export function sdxlTimeIds(width: number, height: number): Float32Array {
  return Float32Array.from([height, width, 0, 0, height, width]);
}

/**
 * The SDXL counterpart of encodePrompts: the prompt (and, when `withUncond`, the negative prompt) through
 * both tokenizers and encoders, with the pooled embedding and time ids the UNet also takes.
 */
export async function encodePromptsSdxl(
  model: PipelineModel,
  prompt: string,
  negativePrompt: string,
  withUncond: boolean,
  size: { width: number; height: number },
): Promise<TextConditioning> {
  const sdxl = model.info.sdxl;
  const tok2 = model.tokenizer2;
  if (!sdxl || !tok2 || !model.encodeText2) throw new PipelineError('unsupported', 'this model has no second text encoder / tokenizer (SDXL)');
  const tokenizers: [PromptTokenizer, PromptTokenizer] = [model.tokenizer, tok2];
  // diffusers zeroes the negative conditioning when no negative prompt is given and the model asks for it.
  const zeroNegative = withUncond && negativePrompt === '' && sdxl.forceZerosForEmptyPrompt;
  const tokenize = (text: string): PromptTokens[] => tokenizers.map((t) => tokenizePrompt(t, text));
  let pos = tokenize(prompt);
  let neg = withUncond && !zeroNegative ? tokenize(negativePrompt) : undefined;
  const count = Math.max(...pos.map((t) => t.chunks.length), ...(neg ?? []).map((t) => t.chunks.length));
  pos = pos.map((t, k) => padChunks(t, count, tokenizers[k]));
  neg = neg?.map((t, k) => padChunks(t, count, tokenizers[k]));

  const c = await encodeBoth(model, sdxl, pos[0]!, pos[1]!);
  const timeIds = sdxlTimeIds(size.width, size.height);
  const cond: AddedConditioning = { textEmbeds: c.pooled, timeIds };
  let uncond: { hidden: Float32Array; added: AddedConditioning } | undefined;
  if (withUncond) {
    const u = neg ? await encodeBoth(model, sdxl, neg[0]!, neg[1]!) : { hidden: new Float32Array(c.hidden.length), pooled: new Float32Array(c.pooled.length) };
    uncond = { hidden: u.hidden, added: { textEmbeds: u.pooled, timeIds } };
  }
  return {
    cond: c.hidden,
    ...(uncond ? { uncond: uncond.hidden } : {}),
    added: { cond, ...(uncond ? { uncond: uncond.added } : {}) },
    sequenceLength: count * pos[0]!.chunks[0]!.ids.length,
    hidden: model.info.textHiddenSize + sdxl.textHiddenSize2,
    tokenCount: pos[0]!.tokenCount,
  };
}
