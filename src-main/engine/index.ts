// Public API of the Latent Studio engine: `import { ... } from 'latent-studio/engine'`.
// Nothing under src-main/engine may import Electron.

// Seeds: torch-exact CPU randn.
export { TorchGenerator, MAX_TORCH_SEED, normalizeTorchSeed } from './random/index.js';
export type { TorchSeed } from './random/index.js';

// Schedulers: the contract.
export type {
  NoiseSource,
  Scheduler,
  SchedulerConfig,
  SchedulerName,
  SetTimestepsOptions,
  StepOptions,
  StepResult,
} from './schedulers/types.js';

// Schedulers: one file per algorithm, diffusers-exact.
export {
  createScheduler,
  schedulerNames,
  isSchedulerName,
  registeredSchedulerNames,
  diffusersClassToScheduler,
  schedulerToDiffusersClass,
  schedulerNameForDiffusersClass,
  defaultSchedulerFor,
  img2imgTimesteps,
} from './schedulers/index.js';
export type { Img2ImgTimesteps } from './schedulers/index.js';
export { SD15_SCHEDULER_CONFIG } from './schedulers/index.js';

// Tokenizer (CLIP BPE, OpenAI-exact) and AUTOMATIC1111 prompt syntax.
export { ClipTokenizer, CLIP_BOS_TOKEN, CLIP_EOS_TOKEN, CLIP_MODEL_MAX_LENGTH } from './tokenizer/index.js';
export type { ClipTokenizerOptions } from './tokenizer/index.js';
export {
  parsePromptAttention,
  isBreak,
  BREAK_MARKER,
  tokenizePrompt,
  padChunks,
  padToSameChunkCount,
  emptyChunk,
  countTokens,
  applyPromptWeights,
  DEFAULT_COMMA_PADDING_BACKTRACK,
} from './prompt/index.js';
export type {
  PromptFragment,
  PromptTokenizer,
  PromptChunk,
  PromptTokens,
  TokenizePromptOptions,
  TokenCountInfo,
} from './prompt/index.js';

// Models: the ONNX folders users download (diffusers / optimum layout), inspected and opened.
export * from './model/index.js';
export { listSupportedBackends, KNOWN_BACKENDS, float32ToFloat16, float16ToFloat32 } from './onnx/index.js';
export type { BackendInfo, KnownBackend } from './onnx/index.js';

// Generation: text-to-image, image-to-image, inpainting; image I/O with PNG metadata; the worker.
export * from './pipeline/index.js';
export * from './image/index.js';
export * from './worker/index.js';
