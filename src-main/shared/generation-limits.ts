// The choices and limits of a generation request, as plain constants (no zod): the request schema
// (generate-request.ts) is built from them, and the renderer reads them for its fields and clamps without
// bundling a validator. The engine's scheduler registry is typed by SamplerName, so it has one of each.

/** Every sampler a request may name (the CLI's --sampler choices and the studio's list, in this order). */
export const SAMPLER_NAMES = Object.freeze(['ddpm', 'ddim', 'pndm', 'lms', 'euler', 'euler-ancestral', 'heun', 'dpmpp-2m', 'unipc', 'lcm'] as const);
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export function isSamplerName(value: unknown): value is SamplerName {
  return typeof value === 'string' && (SAMPLER_NAMES as readonly string[]).includes(value);
}

/** Seeds are unsigned 64-bit (torch's manual_seed range); -1 asks for a random one. */
export const MAX_SEED = (1n << 64n) - 1n;

export const INIT_IMAGE_FITS = Object.freeze(['crop', 'resize', 'fill'] as const);
export type InitImageFit = (typeof INIT_IMAGE_FITS)[number];

export const CFG_MODES = Object.freeze(['batch', 'sequential'] as const);
export type CfgMode = (typeof CFG_MODES)[number];

export const generationLimits = {
  samplers: SAMPLER_NAMES,
  /** Prompt and negative prompt, in characters: far beyond any model's token window, small enough to queue. */
  promptLength: { max: 20_000 },
  /** What a job summary (queue events) keeps of the prompt. */
  summaryPromptLength: 200,
  seed: { min: 0, max: MAX_SEED, random: -1 },
  batchCount: { min: 1, max: 1000, default: 1 },
  steps: { min: 1, max: 1000, default: 20 },
  cfgScale: { min: 0, default: 7 },
  eta: { min: 0, max: 1, default: 0 },
  /** Width and height in pixels: the VAE works on 8×8 blocks. */
  /** maxPixels: width × height at most (image-size.ts), whatever each side allows. */
  size: { min: 8, max: 8192, multiple: 8, maxPixels: 2048 * 2048 },
  strength: { min: 0, max: 1, default: 0.75 },
  maskBlur: { min: 0, max: 256, default: 4 },
  inpaintPadding: { min: 0, max: 4096, default: 32 },
  threads: { min: 0, max: 1024 },
} as const;
