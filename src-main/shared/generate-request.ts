// The generation request: ONE zod schema for the studio (checked by the host as a payload enters), the CLI
// (checked as its flags become a request) and the engine's public generate(). Pure zod: no Node, no engine.
//
// The fields are grouped as a person thinks of a request: what to generate, how to sample, what is on the
// canvas, where to run it, and the live previews. On the wire, in job files and in the JSON stored in every
// PNG the request stays ONE flat object (old gallery PNGs keep loading).
import { z } from 'zod';
import { CFG_MODES, generationLimits as limits, INIT_IMAGE_FITS, MAX_SEED, SAMPLER_NAMES } from './generation-limits.js';
import { imageSizeProblem } from './image-size.js';

export * from './generation-limits.js';

/** Raw pixels, row-major: RGBA (4 bytes a pixel), or for a mask also one byte a pixel (255 = repaint). */
export interface RawPixels {
  width: number;
  height: number;
  data: Uint8Array;
}

/** An image given to a request: an image file's bytes (PNG, JPEG, WebP) or raw pixels. */
export type ImageInput = Uint8Array | RawPixels;

export function isRawPixels(image: ImageInput): image is RawPixels {
  return !(image instanceof Uint8Array);
}

const count = (name: string, min: number, max: number) =>
  z
    .number({ error: `${name} must be a number` })
    .int({ error: `${name} must be a whole number` })
    .min(min, { error: `${name} must be at least ${min}` })
    .max(max, { error: `${name} must be at most ${max}` });

const text = (name: string) =>
  z
    .string({ error: `${name} must be a string` })
    .max(limits.promptLength.max, { error: `${name} is too long (${limits.promptLength.max} characters at most)` });

const dimension = (name: string) =>
  z
    .number({ error: `${name} must be a number of pixels` })
    .int({ error: `${name} must be a whole number of pixels` })
    .min(limits.size.min, { error: `${name} must be at least ${limits.size.min} pixels` })
    .max(limits.size.max, { error: `${name} must be at most ${limits.size.max} pixels` })
    .refine((v) => v % limits.size.multiple === 0, {
      error: (issue) => {
        const v = issue.input as number;
        const m = limits.size.multiple;
        return `${name} must be a multiple of ${m} (got ${v}; use ${Math.floor(v / m) * m} or ${Math.ceil(v / m) * m})`;
      },
    });

const seedSchema = z
  .union([
    z.number({ error: 'seed must be a number or a decimal string' }),
    z.string({ error: 'seed must be a number or a decimal string' }),
    z.bigint(),
  ])
  .superRefine((v, ctx) => {
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < limits.seed.random) ctx.addIssue({ code: 'custom', message: `seed must be an integer ≥ 0 (or -1 for random), got ${v}` });
      else if (v > Number.MAX_SAFE_INTEGER) ctx.addIssue({ code: 'custom', message: 'seed above 2^53 must be given as a decimal string' });
      return;
    }
    const s = String(v).trim();
    if (s === '-1') return;
    if (!/^\d+$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: `seed must be a decimal integer between 0 and 2^64-1, got "${s}"` });
    } else if (BigInt(s) > MAX_SEED) {
      ctx.addIssue({ code: 'custom', message: `seed must be at most 2^64-1 (${MAX_SEED}), got ${s}` });
    }
  });

/** What is wrong with an image input, or undefined. `channels`: the raw layouts accepted (bytes per pixel). */
function imageInputProblem(v: unknown, name: string, channels: readonly number[]): string | undefined {
  if (v instanceof Uint8Array) return v.length === 0 ? `${name} is empty` : undefined;
  const layouts = channels.map((c) => (c === 4 ? 'RGBA' : `${c} byte${c > 1 ? 's' : ''}`)).join(' or ');
  const expected = `${name} must be an image file's bytes (a Uint8Array) or raw pixels { width, height, data } (${layouts} per pixel)`;
  if (typeof v !== 'object' || v === null) return expected;
  const { width, height, data, ...rest } = v as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return `${expected}; unknown field(s) ${Object.keys(rest).join(', ')}`;
  const side = (s: unknown) => typeof s === 'number' && Number.isInteger(s) && s >= 1 && s <= 2 * limits.size.max;
  if (!side(width) || !side(height) || !(data instanceof Uint8Array)) return expected;
  const pixels = (width as number) * (height as number);
  if (!channels.some((c) => data.length === pixels * c)) {
    return `${name} has ${data.length} bytes of pixels, expected ${channels.map((c) => pixels * c).join(' or ')} for ${width}x${height}`;
  }
  return undefined;
}

const imageInput = (name: string, channels: readonly number[]) =>
  z.custom<ImageInput>().superRefine((v, ctx) => {
    const problem = imageInputProblem(v, name, channels);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/** What to generate: the prompts, the seed, how many images. */
export const promptFields = {
  prompt: text('prompt').default(''),
  negativePrompt: text('negativePrompt').default(''),
  /** Integer 0..2^64-1 (a number up to 2^53, or a decimal string); -1 or omitted → random. */
  seed: seedSchema.optional(),
  /** Images generated one after another with seeds seed, seed+1, … */
  batchCount: count('batchCount', limits.batchCount.min, limits.batchCount.max).default(limits.batchCount.default),
};

/** How to sample. */
export const samplingFields = {
  /** Omitted → the model's own scheduler (scheduler_config.json `_class_name`). */
  sampler: z.enum(SAMPLER_NAMES, { error: (iss) => `unknown sampler ${JSON.stringify(iss.input)}; expected one of: ${SAMPLER_NAMES.join(', ')}` }).optional(),
  steps: count('steps', limits.steps.min, limits.steps.max).default(limits.steps.default),
  cfgScale: z
    .number({ error: 'cfgScale must be a finite number' })
    .refine((v) => Number.isFinite(v), { error: 'cfgScale must be a finite number' })
    .refine((v) => v >= limits.cfgScale.min, { error: `cfgScale must be ≥ ${limits.cfgScale.min}` })
    .default(limits.cfgScale.default),
  /** DDIM eta (0 = deterministic). */
  eta: z
    .number({ error: 'eta must be a number' })
    .min(limits.eta.min, { error: 'eta must be between 0 and 1' })
    .max(limits.eta.max, { error: 'eta must be between 0 and 1' })
    .default(limits.eta.default),
  /**
   * How the two CFG passes run: 'batch' (default) as one batch-2 UNet call where the model allows it, or
   * 'sequential' as two batch-1 calls, which halves the UNet's activation memory (about 1 GB less for SD 1.5
   * at 512²) for a little speed; the results are the same up to float rounding.
   */
  cfgMode: z.enum(CFG_MODES, { error: "cfgMode must be 'batch' or 'sequential'" }).default('batch'),
};

/** The canvas: its size, the init image and the mask. No initImage → text-to-image; initImage → image-to-image; initImage + mask → inpainting. */
export const canvasFields = {
  /** Omitted → the model's native size (unet/config.json sample_size × 8, as diffusers), else 512. */
  width: dimension('width').optional(),
  height: dimension('height').optional(),
  initImage: imageInput('initImage', [4]).optional(),
  /** img2img / inpainting denoising strength: 0 keeps the init image, 1 ignores it. */
  strength: z
    .number({ error: 'strength must be a number' })
    .min(limits.strength.min, { error: 'strength must be between 0 and 1' })
    .max(limits.strength.max, { error: 'strength must be between 0 and 1' })
    .default(limits.strength.default),
  /** Same size as initImage. White = repaint, black = keep; a non-opaque alpha channel is used instead when present. */
  mask: imageInput('mask', [1, 4]).optional(),
  /** Gaussian feather of the mask in pixels (A1111 "Mask blur"). */
  maskBlur: z
    .number({ error: 'maskBlur must be a number' })
    .min(limits.maskBlur.min, { error: `maskBlur must be ≥ ${limits.maskBlur.min}` })
    .max(limits.maskBlur.max, { error: `maskBlur must be ≤ ${limits.maskBlur.max}` })
    .default(limits.maskBlur.default),
  /** A1111 "Inpaint area: Only masked": generate the mask's neighbourhood at full width × height and paste it back. */
  inpaintOnlyMasked: z.boolean({ error: 'inpaintOnlyMasked must be a boolean' }).default(false),
  /** A1111 "Only masked padding, pixels". */
  inpaintPadding: count('inpaintPadding', limits.inpaintPadding.min, limits.inpaintPadding.max).default(limits.inpaintPadding.default),
  /** How an init image (and mask) of another size is fitted to width × height (engine ImageFit). */
  initImageFit: z.enum(INIT_IMAGE_FITS, { error: "initImageFit must be 'crop', 'resize' or 'fill'" }).default('crop'),
};

/** Where to run it. */
export const runFields = {
  /** Model folder (the studio sends a model id, which its host turns into the folder). */
  model: z.string({ error: 'model must be the path of a model folder' }).min(1, { error: 'model must not be empty' }).optional(),
  /** onnxruntime execution provider ('cpu', 'cuda', 'dml', 'coreml', 'webgpu', ...). */
  backend: z.string({ error: 'backend must be a string' }).min(1).max(64).optional(),
  /** intra-op threads (0 or omitted = onnxruntime's default). */
  threads: count('threads', limits.threads.min, limits.threads.max).optional(),
};

/** Live previews. */
export const previewFields = {
  /** Latent (approximate RGB) preview every N steps; 0 = off. */
  previewEvery: count('previewEvery', 0, limits.steps.max).default(1),
  /** Full VAE-decoded preview every N steps; 0 = off. */
  decodePreviewEvery: count('decodePreviewEvery', 0, limits.steps.max).default(0),
};

/** Every field of a request, flat: what travels and what is stored in PNGs. */
export const generateRequestFields = { ...promptFields, ...samplingFields, ...canvasFields, ...runFields, ...previewFields };

/** The rule across fields: inpainting needs the image it paints into. */
export function checkInputsTogether(r: { mask?: unknown; initImage?: unknown; width?: number; height?: number }, ctx: z.RefinementCtx): void {
  if (r.mask !== undefined && r.initImage === undefined) {
    ctx.addIssue({ code: 'custom', path: ['mask'], message: 'a mask needs an initImage to inpaint' });
  }
  // Each side may be fine while the pixel count is not: refuse before any memory is spent.
  if (r.width !== undefined && r.height !== undefined) {
    const problem = imageSizeProblem(r.width, r.height);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['width'], message: problem });
  }
}

export const generateRequestSchema = z.strictObject(generateRequestFields).superRefine(checkInputsTogether);

/** What callers pass (defaults may be left out). */
export type GenerateRequest = z.input<typeof generateRequestSchema>;
/** A checked request with every default filled in: what travels from the host or CLI to the engine. */
export type ParsedRequest = z.output<typeof generateRequestSchema>;

export interface RequestIssue {
  /** The flat field name ('' for the request as a whole). */
  field: string;
  /** What is wrong: "steps must be at least 1". */
  message: string;
  /** With the field: "steps: steps must be at least 1". */
  line: string;
}

export type RequestCheck = { ok: true; request: ParsedRequest } | { ok: false; issues: RequestIssue[] };

/** Checks a request once; every problem comes back as one line naming its field. */
export function safeParseGenerateRequest(input: unknown): RequestCheck {
  const r = generateRequestSchema.safeParse(input);
  if (r.success) return { ok: true, request: r.data };
  return {
    ok: false,
    issues: r.error.issues.map((i) => {
      const field = i.path.map(String).join('.');
      if (i.code === 'unrecognized_keys') {
        const message = `unknown field(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
        return { field, message, line: message };
      }
      return { field, message: i.message, line: `${field ? `${field}: ` : ''}${i.message}` };
    }),
  };
}

/** A prompt cut to what a job summary shows (queue events carry summaries, never whole requests). */
export function summarizePrompt(prompt: string): string {
  const max = limits.summaryPromptLength;
  return prompt.length <= max ? prompt : `${prompt.slice(0, max - 1)}…`;
}
