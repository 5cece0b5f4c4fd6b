export { parsePromptAttention, isBreak, BREAK_MARKER, ROUND_BRACKET_MULTIPLIER, SQUARE_BRACKET_MULTIPLIER } from './attention.js';
export type { PromptFragment } from './attention.js';
export {
  tokenizePrompt,
  padChunks,
  padToSameChunkCount,
  emptyChunk,
  countTokens,
  spellChunks,
  DEFAULT_COMMA_PADDING_BACKTRACK,
} from './chunks.js';
export type { PromptTokenizer, PromptChunk, PromptTokens, TokenizePromptOptions, TokenCountInfo, ChunkTokens } from './chunks.js';
export { applyPromptWeights } from './weights.js';
