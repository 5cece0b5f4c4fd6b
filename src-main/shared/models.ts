// The models the studio lists and inspects (listModels, inspectModel). Pure TS, importable by the renderer;
// contract.ts re-exports it.

export type ModelSource = 'bundled' | 'user' | 'path';

export interface ModelEntry {
  /** Stable id to pass as `model`: 'bundled:<folder>', 'user:<folder>' or the absolute folder for 'path'. */
  id: string;
  /** Display name (folder name). */
  name: string;
  /** Absolute model folder. */
  dir: string;
  source: ModelSource;
  /** model_index.json `_class_name` when readable (e.g. 'StableDiffusionPipeline', 'StableDiffusionInpaintPipeline'). */
  pipeline?: string;
  /** Has vae_encoder/ (img2img, inpainting possible). */
  hasVaeEncoder: boolean;
  /** Native resolution (unet sample_size × 8) when the config says: a blank canvas starts at it. */
  defaultSize?: { width: number; height: number };
  /** Filled when the folder looks wrong (listed anyway so the UI can say why). */
  problem?: string;
}

/**
 * What the inspectModel channel reports: a summary of the engine's ModelInspection (engine/model/inspect.ts).
 * Fields the engine cannot tell are left out.
 */
export interface ModelSummary {
  id: string;
  dir: string;
  name: string;
  /** 'sd1' | 'sd2' | 'sdxl' | … as the engine names the family. */
  family?: string;
  /** 'epsilon' | 'v_prediction' | 'sample'. */
  predictionType?: string;
  isInpainting: boolean;
  /** LCM (timestep_cond). */
  isLcm?: boolean;
  /** Native resolution (e.g. 512, 768). */
  defaultSize?: { width: number; height: number };
  /** The engine sampler name matching scheduler_config.json (what an omitted `sampler` uses). */
  defaultSampler?: string;
  /** Weights dtype of the UNet: 'float32' | 'float16'. */
  dtype?: string;
  hasVaeEncoder: boolean;
  /** Everything else the engine reported (JSON-safe). */
  details?: Record<string, unknown>;
}
