// The generation request: one zod schema shared by the studio's IPC and the CLI.
import { z } from 'zod';
import { schedulerNames } from '../schedulers/index.js';
import { PipelineError } from './errors.js';

/** The sampler names a request may give (the scheduler registry's, in UI order). */
export const SCHEDULER_NAMES = schedulerNames;

export const MAX_SEED = (1n << 64n) - 1n;

const dimension = (name: string) =>
  z
    .number({ error: `${name} must be a number of pixels` })
    .int({ error: `${name} must be a whole number of pixels` })
    .min(8, { error: `${name} must be at least 8 pixels` })
    .max(8192, { error: `${name} must be at most 8192 pixels` })
    .refine((v) => v % 8 === 0, {
      error: (issue) => {
        const v = issue.input as number;
        return `${name} must be a multiple of 8 (got ${v}; use ${Math.floor(v / 8) * 8} or ${Math.ceil(v / 8) * 8})`;
      },
    });

const seedSchema = z
  .union([
    z.number({ error: 'seed must be a number or a decimal string' }),
    z.string({ error: 'seed must be a number or a decimal string' }),
    z.bigint(),
  ])
  .optional()
  .superRefine((v, ctx) => {
    if (v === undefined) return;
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < -1) ctx.addIssue({ code: 'custom', message: `seed must be an integer ≥ 0 (or -1 for random), got ${v}` });
      else if (v > Number.MAX_SAFE_INTEGER) ctx.addIssue({ code: 'custom', message: 'seed above 2^53 must be given as a decimal string' });
      return;
    }
    const s = String(v).trim();
    if (s === '-1') return;
    if (!/^\d+$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: `seed must be a decimal integer between 0 and 2^64-1, got "${s}"` });
    } else if (BigInt(s) > MAX_SEED) {
      ctx.addIssue({ code: 'custom', message: `seed must be at most 2^64-1 (18446744073709551615), got ${s}` });
    }
  });

const bytes = (name: string) =>
  z.custom<Uint8Array>((v) => v instanceof Uint8Array, { error: `${name} must be the encoded image file's bytes (a Uint8Array)` });

/**
 * Generation request. Mode follows from the fields: no initImage → text-to-image; initImage →
 * image-to-image; initImage + mask → inpainting.
 */
export const generateRequestSchema = z
  .strictObject({
    /** Model folder. Used by the engine worker to pick (and cache) the model; generate() itself gets the model object. */
    model: z.string({ error: 'model must be the path of a model folder' }).min(1, { error: 'model must not be empty' }).optional(),
    /** onnxruntime execution provider for the worker's session ('cpu', 'cuda', 'dml', 'coreml', 'webgpu', ...). */
    backend: z.string({ error: 'backend must be a string' }).min(1).optional(),
    /** intra-op threads for the worker's sessions (0 or omitted = onnxruntime's default). */
    threads: z.number({ error: 'threads must be a number' }).int({ error: 'threads must be a whole number' }).min(0, { error: 'threads must be ≥ 0' }).max(1024).optional(),
    prompt: z.string({ error: 'prompt must be a string' }).default(''),
    negativePrompt: z.string({ error: 'negativePrompt must be a string' }).default(''),
    /** Omitted → the model's own scheduler (scheduler_config.json `_class_name`). */
    sampler: z
      .enum(SCHEDULER_NAMES, { error: (iss) => `unknown sampler ${JSON.stringify(iss.input)}; expected one of: ${SCHEDULER_NAMES.join(', ')}` })
      .optional(),
    steps: z.number({ error: 'steps must be a number' }).int({ error: 'steps must be a whole number' }).min(1, { error: 'steps must be at least 1' }).max(1000, { error: 'steps must be at most 1000' }).default(20),
    cfgScale: z
      .number({ error: 'cfgScale must be a finite number' })
      .refine((v) => Number.isFinite(v), { error: 'cfgScale must be a finite number' })
      .refine((v) => v >= 0, { error: 'cfgScale must be ≥ 0' })
      .default(7),
    /** Integer 0..2^64-1 (a number up to 2^53, or a decimal string); -1 or omitted → random. */
    seed: seedSchema,
    /** Omitted → the model's native size (unet/config.json sample_size × 8, as diffusers), else 512. */
    width: dimension('width').optional(),
    height: dimension('height').optional(),
    /** Images generated one after another with seeds seed, seed+1, … */
    batchCount: z.number({ error: 'batchCount must be a number' }).int({ error: 'batchCount must be a whole number' }).min(1, { error: 'batchCount must be at least 1' }).max(1000, { error: 'batchCount must be at most 1000' }).default(1),
    initImage: bytes('initImage').optional(),
    /** img2img / inpainting denoising strength: 0 keeps the init image, 1 ignores it. */
    strength: z.number({ error: 'strength must be a number' }).min(0, { error: 'strength must be between 0 and 1' }).max(1, { error: 'strength must be between 0 and 1' }).default(0.75),
    /** Same size as initImage. White = repaint, black = keep; a non-opaque alpha channel is used instead when present. */
    mask: bytes('mask').optional(),
    /** Gaussian feather of the mask in pixels (A1111 "Mask blur"). */
    maskBlur: z.number({ error: 'maskBlur must be a number' }).min(0, { error: 'maskBlur must be ≥ 0' }).max(256, { error: 'maskBlur must be ≤ 256' }).default(4),
    /** A1111 "Inpaint area: Only masked": generate the mask's neighbourhood at full width × height and paste it back. */
    inpaintOnlyMasked: z.boolean({ error: 'inpaintOnlyMasked must be a boolean' }).default(false),
    /** A1111 "Only masked padding, pixels". */
    inpaintPadding: z.number({ error: 'inpaintPadding must be a number' }).int({ error: 'inpaintPadding must be a whole number' }).min(0, { error: 'inpaintPadding must be ≥ 0' }).max(4096).default(32),
    /** DDIM eta (0 = deterministic). */
    eta: z.number({ error: 'eta must be a number' }).min(0, { error: 'eta must be between 0 and 1' }).max(1, { error: 'eta must be between 0 and 1' }).default(0),
    /** Latent (approximate RGB) preview every N steps; 0 = off. */
    previewEvery: z.number().int().min(0, { error: 'previewEvery must be ≥ 0' }).default(1),
    /** Full VAE-decoded preview every N steps; 0 = off. */
    decodePreviewEvery: z.number().int().min(0, { error: 'decodePreviewEvery must be ≥ 0' }).default(0),
    /**
     * How the two CFG passes run: 'batch' (default) as one batch-2 UNet call where the model allows it, or
     * 'sequential' as two batch-1 calls, which halves the UNet's activation memory (about 1 GB less for SD 1.5
     * at 512²) for a little speed; the results are the same up to float rounding.
     */
    cfgMode: z.enum(['batch', 'sequential'], { error: "cfgMode must be 'batch' or 'sequential'" }).default('batch'),
    /** How an init image (and mask) of another size is fitted to width × height; see ImageFit. */
    initImageFit: z.enum(['crop', 'resize', 'fill'], { error: "initImageFit must be 'crop', 'resize' or 'fill'" }).default('crop'),
  })
  .superRefine((r, ctx) => {
    if (r.mask !== undefined && r.initImage === undefined) {
      ctx.addIssue({ code: 'custom', path: ['mask'], message: 'a mask needs an initImage to inpaint' });
    }
  });

/** What callers pass (defaults may be left out). */
export type GenerateRequest = z.input<typeof generateRequestSchema>;
/** A validated request with every default filled in. */
export type ParsedRequest = z.output<typeof generateRequestSchema>;
/** A parsed request with its size settled (see resolveRequestSize). */
export type NormalizedRequest = ParsedRequest & { width: number; height: number };

/** Fills an omitted width/height with the model's native size (diffusers: unet sample_size × 8), else 512. */
export function resolveRequestSize(req: ParsedRequest, nativeSize: number | undefined): NormalizedRequest {
  const side = nativeSize ?? 512;
  return { ...req, width: req.width ?? side, height: req.height ?? side };
}

/** Validates a request, throwing PipelineError('invalid-request') with one line per problem. */
export function parseGenerateRequest(input: unknown): ParsedRequest {
  const r = generateRequestSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const path = i.path.length ? `${i.path.map(String).join('.')}: ` : '';
    if (i.code === 'unrecognized_keys') return `unknown field(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return `${path}${i.message}`;
  });
  throw new PipelineError('invalid-request', `Invalid generation request: ${lines.join('; ')}`);
}

/** The request's seed as a bigint; -1 / omitted → a random 32-bit seed (as A1111). */
export function resolveSeed(seed: NormalizedRequest['seed']): bigint {
  if (seed === undefined || seed === -1 || String(seed).trim() === '-1') {
    return BigInt(Math.floor(Math.random() * 4294967296));
  }
  return BigInt(typeof seed === 'string' ? seed.trim() : seed);
}

/** seed + i, wrapping at 2^64 like an unsigned 64-bit counter. */
export function seedForImage(seed: bigint, index: number): bigint {
  return (seed + BigInt(index)) & MAX_SEED;
}
