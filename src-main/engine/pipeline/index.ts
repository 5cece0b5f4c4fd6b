export { generate, runGeneration, lastGenerateTimings, type GenerateTimings } from './generate.js';
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
  type ImageInput,
  type NormalizedRequest,
  type RawPixels,
} from './request.js';
export { PipelineError, GenerationAbortError, isAbortError, type PipelineErrorCode } from './errors.js';
export { combineGuidance, guidanceScaleEmbedding } from './guidance.js';
export { latentToRgba, decodedToRgba, latentRgbFactorsFor, SD15_LATENT_RGB, SDXL_LATENT_RGB, type LatentRgbFactors } from './preview.js';
export type {
  PipelineModel,
  PipelineModelInfo,
  GenerateHooks,
  GenerateResult,
  ProgressEvent,
  PreviewEvent,
  StoredRequest,
  GenerationMode,
} from './types.js';
