// Prompt -> 77-token chunks with per-token weights, as AUTOMATIC1111's
// FrozenCLIPEmbedderWithCustomWords.tokenize_line builds them (emphasis "Original", no textual
// inversion embeddings):
//  - every weighted fragment is tokenized on its own (no start/end tokens, no truncation);
//  - tokens fill chunks of modelMaxLength-2 (75); a full chunk is wrapped [bos, 75 ids, eos];
//  - comma backtrack: when a chunk is full and a ',' token sits within the last 20 tokens, the
//    tokens after that comma move on to the next chunk and the chunk is padded instead;
//  - BREAK pads the current chunk out and starts a new one;
//  - padding is the eos id up to and including position 76 in A1111; every id after the first eos is
//    then the tokenizer's pad id (A1111 does the same for SD 2.x, where pad != eos);
//  - prompts longer than one chunk give several chunks: nothing is cut.
import { isBreak, parsePromptAttention } from './attention.js';

/** What the chunker needs from a tokenizer (ClipTokenizer satisfies it). */
export interface PromptTokenizer {
  encode(text: string): number[];
  tokenToId(token: string): number | undefined;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  readonly modelMaxLength: number;
}

export interface PromptChunk {
  /** Exactly modelMaxLength (77) ids: bos, up to 75 prompt ids, eos, padding. */
  ids: number[];
  /** One weight per id; 1.0 on bos, eos and padding. */
  weights: number[];
}

export interface PromptTokens {
  chunks: PromptChunk[];
  /**
   * A1111's token count: 75 for every chunk before the last (including padding introduced by BREAK or
   * the comma backtrack), plus the number of prompt tokens in the last chunk.
   */
  tokenCount: number;
  /** The empty-prompt chunk of the tokenizer that made these chunks (used by padChunks). */
  emptyChunk?: PromptChunk;
}

export interface TokenizePromptOptions {
  /** A1111's `comma_padding_backtrack` setting (default 20; 0 disables it). */
  commaPaddingBacktrack?: number;
  /** Parse the (emphasis) syntax; false = A1111's emphasis "None" (whole prompt at weight 1). */
  emphasis?: boolean;
}

export const DEFAULT_COMMA_PADDING_BACKTRACK = 20;

/** The comma token of a CLIP vocabulary (',</w>'). */
function commaTokenId(tokenizer: PromptTokenizer): number | undefined {
  return tokenizer.tokenToId(',</w>');
}

function finishChunk(tokenizer: PromptTokenizer, body: number[], bodyWeights: number[]): PromptChunk {
  const chunkLength = tokenizer.modelMaxLength - 2;
  const ids = [tokenizer.bosTokenId, ...body];
  const weights = [1.0, ...bodyWeights];
  for (let i = body.length; i < chunkLength; i++) {
    ids.push(tokenizer.eosTokenId);
    weights.push(1.0);
  }
  ids.push(tokenizer.eosTokenId);
  weights.push(1.0);
  if (tokenizer.padTokenId !== tokenizer.eosTokenId) {
    // A1111 (process_tokens): everything after the first end token becomes the pad token.
    const firstEnd = ids.indexOf(tokenizer.eosTokenId);
    for (let i = firstEnd + 1; i < ids.length; i++) ids[i] = tokenizer.padTokenId;
  }
  return { ids, weights };
}

/** The chunk of an empty prompt: [bos, eos, pad...], all weights 1. */
export function emptyChunk(tokenizer: PromptTokenizer): PromptChunk {
  return finishChunk(tokenizer, [], []);
}

/** Splits an A1111-syntax prompt into weighted 77-token chunks. */
export function tokenizePrompt(tokenizer: PromptTokenizer, text: string, options: TokenizePromptOptions = {}): PromptTokens {
  const parsed = options.emphasis === false ? [{ text, weight: 1.0 }] : parsePromptAttention(text);
  const backtrack = options.commaPaddingBacktrack ?? DEFAULT_COMMA_PADDING_BACKTRACK;
  const chunkLength = tokenizer.modelMaxLength - 2;
  const comma = commaTokenId(tokenizer);

  const chunks: PromptChunk[] = [];
  let tokens: number[] = [];
  let weights: number[] = [];
  let tokenCount = 0;
  let lastComma = -1;

  const nextChunk = (isLast = false): void => {
    tokenCount += isLast ? tokens.length : chunkLength;
    chunks.push(finishChunk(tokenizer, tokens, weights));
    tokens = [];
    weights = [];
    lastComma = -1;
  };

  for (const fragment of parsed) {
    if (isBreak(fragment)) {
      nextChunk();
      continue;
    }
    const fragmentTokens = tokenizer.encode(fragment.text);
    for (const token of fragmentTokens) {
      if (token === comma) {
        lastComma = tokens.length;
      } else if (backtrack !== 0 && tokens.length === chunkLength && lastComma !== -1 && tokens.length - lastComma <= backtrack) {
        const breakLocation = lastComma + 1;
        const relocTokens = tokens.slice(breakLocation);
        const relocWeights = weights.slice(breakLocation);
        tokens = tokens.slice(0, breakLocation);
        weights = weights.slice(0, breakLocation);
        nextChunk();
        tokens = relocTokens;
        weights = relocWeights;
      }
      if (tokens.length === chunkLength) nextChunk();
      tokens.push(token);
      weights.push(fragment.weight);
    }
  }
  if (tokens.length > 0 || chunks.length === 0) nextChunk(true);

  return { chunks, tokenCount, emptyChunk: emptyChunk(tokenizer) };
}

/**
 * Pads a prompt with empty-prompt chunks ([bos, eos, pad...], weights 1) up to chunkCount chunks, as
 * A1111 pads the shorter of prompt / negative prompt. Returns a new object; a prompt that already has
 * chunkCount chunks or more is returned unchanged (never cut). The empty chunk comes from
 * `tokens.emptyChunk` (set by tokenizePrompt) or from `tokenizer`.
 */
export function padChunks(tokens: PromptTokens, chunkCount: number, tokenizer?: PromptTokenizer): PromptTokens {
  if (tokens.chunks.length >= chunkCount) return tokens;
  const empty = tokens.emptyChunk ?? (tokenizer !== undefined ? emptyChunk(tokenizer) : undefined);
  if (empty === undefined) throw new Error('padChunks: no empty chunk known; pass the tokenizer');
  const chunks = tokens.chunks.slice();
  while (chunks.length < chunkCount) chunks.push({ ids: empty.ids.slice(), weights: empty.weights.slice() });
  return { ...tokens, chunks };
}

/** Pads whichever of the two prompts (positive / negative) has fewer chunks, so both have as many. */
export function padToSameChunkCount(
  positive: PromptTokens,
  negative: PromptTokens,
  tokenizer?: PromptTokenizer,
): { positive: PromptTokens; negative: PromptTokens } {
  const count = Math.max(positive.chunks.length, negative.chunks.length);
  return { positive: padChunks(positive, count, tokenizer), negative: padChunks(negative, count, tokenizer) };
}

export interface TokenCountInfo {
  /** Tokens used (A1111's count, see PromptTokens.tokenCount). */
  tokens: number;
  /** Number of 77-token chunks the prompt needs. */
  chunks: number;
  /** Prompt tokens per chunk (75). */
  perChunk: number;
  /** What A1111's counter shows after the slash: chunks' worth of tokens, at least one chunk (75, 150...). */
  limit: number;
}

/** Token counter for the UI: "tokens / limit". */
export function countTokens(tokenizer: PromptTokenizer, text: string, options: TokenizePromptOptions = {}): TokenCountInfo {
  const { chunks, tokenCount } = tokenizePrompt(tokenizer, text, options);
  const perChunk = tokenizer.modelMaxLength - 2;
  const limit = Math.ceil(Math.max(tokenCount, 1) / perChunk) * perChunk;
  return { tokens: tokenCount, chunks: chunks.length, perChunk, limit };
}

/** A chunk as the token inspectors show it (the studio's tokenize channel, `latent-studio tokenize`). */
export interface ChunkTokens extends PromptChunk {
  /** Each id spelled out (`<id>` for an id the vocabulary lacks). */
  tokens: string[];
  /** Prompt tokens in the chunk (not start, end or padding). */
  promptTokens: number;
}

export function spellChunks(tokenizer: PromptTokenizer & { idToToken(id: number): string | undefined }, chunks: readonly PromptChunk[]): ChunkTokens[] {
  return chunks.map((chunk) => {
    // Prompt ids sit between the start token and the first end token.
    const end = chunk.ids.indexOf(tokenizer.eosTokenId, 1);
    return {
      ids: chunk.ids,
      weights: chunk.weights,
      tokens: chunk.ids.map((id) => tokenizer.idToToken(id) ?? `<${id}>`),
      promptTokens: (end < 0 ? chunk.ids.length - 1 : end) - 1,
    };
  });
}
