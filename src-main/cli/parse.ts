// Argument parsers for commander: each throws InvalidArgumentError with a short reason,
// which commander turns into one line: "error: option '--steps <n>' argument 'x' is invalid. <reason>".
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { generationLimits, MAX_SEED } from '../shared/generation-limits.js';

export function parseInteger(options: { min?: number; max?: number } = {}): (value: string) => number {
  return (value: string) => {
    const text = value.trim();
    if (!/^[+-]?\d+$/.test(text)) throw new InvalidArgumentError('Expected an integer.');
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('Integer out of range.');
    if (options.min !== undefined && n < options.min) throw new InvalidArgumentError(`Expected at least ${options.min}.`);
    if (options.max !== undefined && n > options.max) throw new InvalidArgumentError(`Expected at most ${options.max}.`);
    return n;
  };
}

export function parseNumber(options: { min?: number; max?: number } = {}): (value: string) => number {
  return (value: string) => {
    const text = value.trim();
    const n = text === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(n)) throw new InvalidArgumentError('Expected a number.');
    if (options.min !== undefined && n < options.min) throw new InvalidArgumentError(`Expected at least ${options.min}.`);
    if (options.max !== undefined && n > options.max) throw new InvalidArgumentError(`Expected at most ${options.max}.`);
    return n;
  };
}

/**
 * --threads: 1 up to the machine's logical CPUs. More threads than CPUs only costs memory (each onnxruntime pool
 * thread has its own stack and arena: 10^6 threads grew to 19 GB before the kernel killed the run).
 */
export function parseThreads(value: string): number {
  const n = parseInteger({ min: 1 })(value);
  const cpus = availableParallelism();
  if (n > cpus) throw new InvalidArgumentError(`This machine has ${cpus} logical CPU${cpus === 1 ? '' : 's'}: at most ${cpus}.`);
  return n;
}

/** Image sizes: the request's size limits (a multiple of 8: the VAE downsamples by 8). */
export function parseImageSize(value: string): number {
  const { min, max, multiple } = generationLimits.size;
  const n = parseInteger({ min, max })(value);
  if (n % multiple !== 0) {
    const lo = Math.floor(n / multiple) * multiple;
    throw new InvalidArgumentError(`Must be a multiple of ${multiple} (try ${lo} or ${lo + multiple}).`);
  }
  return n;
}

/**
 * Seeds stay decimal strings so that any 64-bit seed survives (torch's manual_seed takes
 * 0..2^64-1). -1 means "random".
 */
export function parseSeed(value: string): string {
  const text = value.trim();
  if (text === '-1') return text;
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError('Expected an integer 0..2^64-1 (or -1 for a random seed).');
  const n = BigInt(text);
  if (n > MAX_SEED) throw new InvalidArgumentError(`Seed out of the 64-bit range (at most ${MAX_SEED}).`);
  return n.toString();
}
