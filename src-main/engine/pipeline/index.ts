export { generate, runGeneration } from './generate.js';
export {
  generateRequestSchema,
  parseGenerateRequest,
  resolveSeed,
  resolveRequestSize,
  type ParsedRequest,
  seedForImage,
  SCHEDULER_NAMES,
  MAX_SEED,
  type GenerateRequest,
  type NormalizedRequest,
} from './request.js';
export { PipelineError, GenerationAbortError, isAbortError, type PipelineErrorCode } from './errors.js';
export { combineGuidance, guidanceScaleEmbedding } from './guidance.js';
export { latentToRgba, decodedToRgba, latentRgbFactorsFor, SD15_LATENT_RGB, SDXL_LATENT_RGB, type LatentRgbFactors } from './preview.js';
export { availableMemoryBytes, planMemory, estimateStages, type MemoryPlan, type JobShape } from './memory-guard.js';
export { tiledDecode, tiledEncode, vaeTileSizes, type VaeTiles } from './vae-tiling.js';
export type {
  MemoryReport,
  PipelineModel,
  PipelineModelInfo,
  GenerateHooks,
  GenerateResult,
  GenerateTimings,
  ProgressEvent,
  PreviewEvent,
  StoredRequest,
  GenerationMode,
} from './types.js';
