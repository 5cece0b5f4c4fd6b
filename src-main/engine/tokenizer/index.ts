export { ClipTokenizer, CLIP_BOS_TOKEN, CLIP_EOS_TOKEN, CLIP_MODEL_MAX_LENGTH, parseMerges } from './clip-tokenizer.js';
export type { ClipTokenizerOptions } from './clip-tokenizer.js';
export { findTokenizerDir } from './find-dir.js';
export { clipClean, basicClean, whitespaceClean, fixText } from './clean.js';
export { htmlUnescape, ftfyUnescapeHtml } from './html.js';
export { BYTE_TO_UNICODE, UNICODE_TO_BYTE, toByteLevel } from './bytes.js';
