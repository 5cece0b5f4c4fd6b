// The generation request on the engine's side. The schema itself is the studio contract's
// (src-main/shared/generate-request.ts), re-exported here as part of the engine's public API; this file adds
// the engine's own helpers: the throwing parse of generate(), the size and seed rules.
import {
  generateRequestSchema,
  MAX_SEED,
  SAMPLER_NAMES,
  safeParseGenerateRequest,
  type GenerateRequest,
  type ImageInput,
  type ParsedRequest,
  type RawPixels,
} from '../../shared/generate-request.js';
import { PipelineError } from './errors.js';

export { generateRequestSchema, MAX_SEED, type GenerateRequest, type ImageInput, type ParsedRequest, type RawPixels };

/** The sampler names a request may give (the scheduler registry has one of each). */
export const SCHEDULER_NAMES = SAMPLER_NAMES;

/** A parsed request with its size settled (see resolveRequestSize). */
export type NormalizedRequest = ParsedRequest & { width: number; height: number };

/** Fills an omitted width/height with the model's native size (diffusers: unet sample_size × 8), else 512. */
export function resolveRequestSize(req: ParsedRequest, nativeSize: number | undefined): NormalizedRequest {
  const side = nativeSize ?? 512;
  return { ...req, width: req.width ?? side, height: req.height ?? side };
}

/** Validates a request, throwing PipelineError('invalid-request') with one line per problem. */
export function parseGenerateRequest(input: unknown): ParsedRequest {
  const r = safeParseGenerateRequest(input);
  if (r.ok) return r.request;
  throw new PipelineError('invalid-request', `Invalid generation request: ${r.issues.map((i) => i.line).join('; ')}`);
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
