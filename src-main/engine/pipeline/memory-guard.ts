// Before a job starts: how much memory its stages will need, against what this process can still have.
// The plan tiles the VAE and runs classifier-free guidance as two batch-1 UNet calls when that is what
// makes the job fit, and refuses a job that cannot fit, naming a size that does, instead of growing until
// the kernel kills the process.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { SD15_MEMORY_FACTS, type ModelMemoryFacts } from '../model/memory.js';
import { PipelineError } from './errors.js';
import { needsTiling, tileCount, vaeTileSizes } from './vae-tiling.js';

const F32 = 4;
const MiB = 1024 * 1024;

/** What the estimate needs of a job. */
export interface JobShape {
  width: number;
  height: number;
  /** Classifier-free guidance as one batch-2 call ('batch'), two batch-1 calls, or none. */
  cfg: 'batch' | 'sequential' | 'none';
  /** Images through the VAE encoder (init image, masked image). */
  encodes: number;
}

/** Bytes each stage adds to the process at its peak. */
export interface StageEstimate {
  vaeEncode: number;
  unet: number;
  vaeDecode: number;
}

export interface MemoryPlan {
  vaeTiling: boolean;
  /** Classifier-free guidance must run as two batch-1 calls. */
  sequentialCfg: boolean;
  stages: StageEstimate;
  /** The job's peak growth (jobPeak). */
  peakBytes: number;
  availableBytes: number;
}

/**
 * The estimate, per stage, float32 activations (conservative for fp16 graphs). It was checked against the
 * measured growth of tiny-sd15's stages (tests/engine/pipeline/memory-guard.test.ts).
 *
 * - Attention: a self-attention over T tokens with n heads holds its score matrix and the softmax of it at
 *   once: 2 · batch · n · T² floats. This is what grows fastest (tokens² = size⁴).
 * - UNet: the largest attention level (tokens = latent pixels / downscale²) plus the convolution activations:
 *   the skip connections of every level (kept for the up path) and a few working tensors of the largest level.
 * - VAE decoder: the mid-block attention over the latent pixels (one head) plus four tensors of the largest
 *   convolution activation (the decoder's channels reversed, each level upsampled twice), and the output.
 * - VAE encoder: likewise with the encoder's channels at the input size.
 * - A tiled VAE stage costs one tile's worth plus the whole output and the previous row of tiles.
 * Every stage gets 25 % on top for what the formula leaves out (allocator slack, copies into JS).
 */
export function estimateStages(facts: ModelMemoryFacts, job: JobShape, vaeTiling: boolean): StageEstimate {
  const h = Math.ceil(job.height / 8);
  const w = Math.ceil(job.width / 8);
  const batch = job.cfg === 'batch' ? 2 : 1;
  const margin = (bytes: number) => Math.ceil(bytes * 1.25);
  return {
    vaeEncode: job.encodes > 0 ? margin(vaeStage(facts, h, w, vaeTiling, 'encode')) : 0,
    unet: margin(unetActivations(facts, h, w, batch)),
    vaeDecode: margin(vaeStage(facts, h, w, vaeTiling, 'decode')),
  };
}

function unetActivations(facts: ModelMemoryFacts, h: number, w: number, batch: number): number {
  let attention = 0;
  for (const level of facts.unetAttention) {
    const tokens = Math.ceil(h / level.downscale) * Math.ceil(w / level.downscale);
    attention = Math.max(attention, 2 * batch * level.heads * tokens * tokens * F32);
  }
  let skips = 0;
  let largest = 0;
  facts.unetChannels.forEach((channels, i) => {
    const level = channels * Math.ceil(h / 2 ** i) * Math.ceil(w / 2 ** i) * batch * F32;
    skips += 3 * level;
    largest = Math.max(largest, level);
  });
  return attention + skips + 4 * largest;
}

function vaeStage(facts: ModelMemoryFacts, h: number, w: number, tiled: boolean, kind: 'encode' | 'decode'): number {
  const { latentTile } = vaeTileSizes(facts.vaeSampleSize);
  const image = 3 * h * w * 64 * F32;
  if (!tiled || !needsTiling(h, w, latentTile)) return vaeActivations(facts, h, w, kind) + 2 * image;
  const th = Math.min(h, latentTile);
  const tw = Math.min(w, latentTile);
  const tileOut = kind === 'decode' ? 3 * th * tw * 64 : 2 * 4 * th * tw;
  const rowOfTiles = tileCount(w, latentTile) * tileOut * F32;
  return vaeActivations(facts, th, tw, kind) + 2 * image + 2 * rowOfTiles;
}

function vaeActivations(facts: ModelMemoryFacts, h: number, w: number, kind: 'encode' | 'decode'): number {
  const tokens = h * w;
  const attention = 2 * tokens * tokens * F32;
  const channels = kind === 'decode' ? [...facts.vaeChannels].reverse() : facts.vaeChannels;
  const levels = channels.length;
  let largest = 0;
  channels.forEach((c, i) => {
    // decoder level i runs at 2^i × the latents and (but the last) upsamples to 2^(i+1); encoder level i at 8 / 2^i.
    const scale = kind === 'decode' ? 2 ** Math.min(i + 1, levels - 1) : 2 ** (levels - 1 - i);
    largest = Math.max(largest, c * h * scale * w * scale);
  });
  return attention + 4 * largest * F32;
}

/** What any run adds besides its tensors (onnxruntime's per-run buffers, thread scratch): measured ~80 MB on tiny-sd15. */
const RUN_OVERHEAD_BYTES = 128 * MiB;

/**
 * The job's peak growth. The VAE sessions give their working memory back after each run, the UNet's keeps
 * it in its arena (model.ts, runtime.ts keepArena): the encoder runs before the UNet, the decoder beside
 * its arena.
 */
export function jobPeak(s: StageEstimate): number {
  return RUN_OVERHEAD_BYTES + Math.max(s.vaeEncode, s.unet + s.vaeDecode);
}

/**
 * The plan for a job: as asked when it fits; else with the VAE tiled, then also with sequential guidance;
 * else PipelineError('too-large') naming the largest size of the same aspect ratio that fits.
 */
export function planMemory(facts: ModelMemoryFacts | undefined, job: JobShape, availableBytes: number): MemoryPlan {
  const f = facts ?? SD15_MEMORY_FACTS;
  const options: Array<[boolean, JobShape]> = [[false, job], [true, job]];
  if (job.cfg === 'batch') options.push([true, { ...job, cfg: 'sequential' }]);
  for (const [vaeTiling, shape] of options) {
    const stages = estimateStages(f, shape, vaeTiling);
    const peakBytes = jobPeak(stages);
    if (peakBytes <= availableBytes) {
      return { vaeTiling, sequentialCfg: shape.cfg === 'sequential' && job.cfg === 'batch', stages, peakBytes, availableBytes };
    }
  }
  const leanest = { ...job, cfg: job.cfg === 'none' ? 'none' : 'sequential' } as const;
  const stages = estimateStages(f, leanest, true);
  const fits = largestFittingSize(f, leanest, availableBytes);
  const need = `about ${gib(jobPeak(stages))}, mostly for the ${largestStage(stages)},`;
  const advice = fits ? `${fits.width}×${fits.height} fits` : 'no size of this aspect ratio fits';
  throw new PipelineError(
    'too-large',
    `${job.width}×${job.height} needs ${need} even with a tiled VAE and sequential guidance, but this process can have ${gib(availableBytes)}; ${advice}.`,
  );
}

function largestStage(s: StageEstimate): string {
  if (s.unet >= s.vaeDecode && s.unet >= s.vaeEncode) return "UNet's attention";
  return s.vaeDecode >= s.vaeEncode ? 'VAE decoder' : 'VAE encoder';
}

/** The largest width × height (multiples of 64 on the longer side, of 8 on the other) that fits, same aspect ratio. */
export function largestFittingSize(facts: ModelMemoryFacts, job: JobShape, availableBytes: number): { width: number; height: number } | null {
  const aspect = job.width / job.height;
  const sizeAt = (long: number) => {
    const short = Math.max(8, Math.floor(long / Math.max(aspect, 1 / aspect) / 8) * 8);
    return aspect >= 1 ? { width: long, height: short } : { width: short, height: long };
  };
  for (let long = Math.floor(Math.max(job.width, job.height) / 64) * 64; long >= 64; long -= 64) {
    const size = sizeAt(long);
    if (jobPeak(estimateStages(facts, { ...job, ...size }, true)) <= availableBytes) return size;
  }
  return null;
}

function gib(bytes: number): string {
  return bytes >= 1024 * MiB ? `${(bytes / 1024 / MiB).toFixed(1)} GiB` : `${Math.round(bytes / MiB)} MiB`;
}

/**
 * The memory this process can still grow by: the least of the system's MemAvailable (/proc/meminfo, else
 * os.freemem()), the room left under its cgroup's limit (v2 memory.max − memory.current, v1
 * limit_in_bytes − usage_in_bytes), and LATENT_STUDIO_MEMORY_LIMIT (bytes, or with a K/M/G suffix: the most
 * this process may use in all, for a machine shared with other work) less what it uses now.
 */
export function availableMemoryBytes(): number {
  const candidates = [memAvailable(), cgroupRoom()];
  const limit = parseBytes(process.env['LATENT_STUDIO_MEMORY_LIMIT']);
  if (limit !== null) candidates.push(limit - process.memoryUsage.rss());
  return Math.max(0, Math.min(...candidates.filter((n): n is number => n !== null)));
}

export function parseBytes(text: string | undefined): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$/i.exec(text ?? '');
  if (!m) return null;
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.floor(Number(m[1]) * unit);
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function memAvailable(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readText('/proc/meminfo') ?? '');
  return m ? Number(m[1]) * 1024 : os.freemem();
}

function cgroupRoom(): number | null {
  const number = (file: string): number | null => {
    const t = readText(file)?.trim();
    return t && /^\d+$/.test(t) ? Number(t) : null;
  };
  const v2 = /^0::(.*)$/m.exec(readText('/proc/self/cgroup') ?? '')?.[1];
  if (v2 !== undefined) {
    const dir = `/sys/fs/cgroup${v2 === '/' ? '' : v2}`;
    const max = number(`${dir}/memory.max`);
    const current = number(`${dir}/memory.current`);
    if (max !== null && current !== null) return max - current;
  }
  const max = number('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  const usage = number('/sys/fs/cgroup/memory/memory.usage_in_bytes');
  // v1 reports "no limit" as a huge number; MemAvailable bounds it anyway.
  return max !== null && usage !== null ? max - usage : null;
}
