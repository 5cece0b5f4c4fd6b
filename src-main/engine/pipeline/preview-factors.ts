// Latent → RGB preview factors fitted to each model's own VAE decoder, so that a live preview shows the
// colours the final picture will have, whatever the VAE (SD 1.5's fixed numbers fit SD 1.5's VAE only).
//
// The fit: a few synthetic pictures (gradients and flat shapes in saturated, pale and dark colours) are
// encoded by the model's VAE encoder, so the latents look like real ones; the decoder turns them back
// into pixels, each 8×8 block is averaged to one latent position, and a least-squares fit (normal
// equations in float64) gives, per RGB channel, the 4 latent weights and a bias. A model without a VAE
// encoder is fitted on standard-normal latents instead (a scaled latent has about unit variance).
// The result is stored beside the model (`.latent-studio/preview-factors.json`), keyed by the VAE
// decoder file, so it is computed once per model; a read-only model folder is fitted once per process.
import { createHash } from 'node:crypto';
import { open, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TorchGenerator } from '../random/index.js';
import { latentRgbFactorsFor, type LatentRgbFactors } from './preview.js';
import type { PipelineModel } from './types.js';

/** Fitted factors, with how well the linear map explains the decoder on the fitting set. */
export interface FittedLatentRgbFactors extends LatentRgbFactors {
  /** Latent positions the fit used. */
  samples: number;
  /** Root-mean-square error of the fit, in the decoder's [−1, 1] units. */
  rmse: number;
}

const CACHE_VERSION = 1;
const CACHE_FILE = path.join('.latent-studio', 'preview-factors.json');
/** Two 256 × 256 pictures (32 tiles): 2 × 32 × 32 latent positions, cheap to decode even for SD 1.5's VAE. */
const FIT_IMAGES = 2;
const FIT_SIZE = 256;
const HEAD_BYTES = 1 << 20;

const memo = new WeakMap<PipelineModel, Promise<LatentRgbFactors>>();

/**
 * The preview factors of a model, computed once (per model object; on disk per VAE decoder): loaded from
 * the model folder's cache, else fitted to its decoder and stored there. A model without a folder, or
 * whose decoder cannot run the fit (e.g. a graph fixed to another size), gets the fixed factors of its
 * VAE family. Never rejects.
 */
export function previewFactorsFor(model: PipelineModel): Promise<LatentRgbFactors> {
  let factors = memo.get(model);
  if (!factors) {
    factors = loadOrFit(model);
    memo.set(model, factors);
  }
  return factors;
}

async function loadOrFit(model: PipelineModel): Promise<LatentRgbFactors> {
  const fallback = latentRgbFactorsFor(model.info.vaeScalingFactor);
  const dir = model.dir;
  if (!dir) return fallback;
  const key = await decoderKey(dir).catch(() => undefined);
  const cached = key ? await readCached(dir, key) : undefined;
  if (cached) return cached;
  const fitted = await fitLatentRgbFactors(model).catch(() => undefined);
  if (!fitted) return fallback;
  if (key) await writeCached(dir, key, fitted).catch(() => undefined); // read-only folder: keep it in memory
  return fitted;
}

interface DecoderKey {
  size: number;
  mtimeMs: number;
  /** SHA-256 of the file's first MiB: a copied or replaced decoder with the same size and time is still told apart. */
  headSha256: string;
}

async function decoderKey(dir: string): Promise<DecoderKey> {
  const file = path.join(dir, 'vae_decoder', 'model.onnx');
  const info = await stat(file);
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(HEAD_BYTES, info.size));
    await handle.read(head, 0, head.length, 0);
    return { size: info.size, mtimeMs: info.mtimeMs, headSha256: createHash('sha256').update(head).digest('hex') };
  } finally {
    await handle.close();
  }
}

function isFactorTable(v: unknown): v is FittedLatentRgbFactors {
  const t = v as FittedLatentRgbFactors;
  const triple = (a: unknown): boolean => Array.isArray(a) && a.length === 3 && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  return !!t && Array.isArray(t.factors) && t.factors.length === 4 && t.factors.every(triple) && triple(t.bias);
}

async function readCached(dir: string, key: DecoderKey): Promise<FittedLatentRgbFactors | undefined> {
  try {
    const json = JSON.parse(await readFile(path.join(dir, CACHE_FILE), 'utf8')) as { version?: number; decoder?: DecoderKey; factors?: unknown };
    const same = json.decoder && json.decoder.size === key.size && json.decoder.mtimeMs === key.mtimeMs && json.decoder.headSha256 === key.headSha256;
    return json.version === CACHE_VERSION && same && isFactorTable(json.factors) ? json.factors : undefined;
  } catch {
    return undefined; // missing or unreadable: fit again
  }
}

async function writeCached(dir: string, key: DecoderKey, factors: FittedLatentRgbFactors): Promise<void> {
  const file = path.join(dir, CACHE_FILE);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ version: CACHE_VERSION, decoder: key, factors }, null, 2)}\n`);
  await rename(tmp, file);
}

/** Fits the factors to the model's VAE decoder (see the top of this file). */
export async function fitLatentRgbFactors(model: PipelineModel): Promise<FittedLatentRgbFactors> {
  const h = FIT_SIZE / 8;
  const w = FIT_SIZE / 8;
  const per = 4 * h * w;
  const scaling = model.info.vaeScalingFactor;
  const latents = new Float32Array(FIT_IMAGES * per); // model space (× scaling), as the sampler's x0
  if (model.info.vaeEncoder) {
    for (let i = 0; i < FIT_IMAGES; i++) {
      const enc = await model.encodeImage(syntheticPicture(i, FIT_SIZE, FIT_SIZE), FIT_SIZE, FIT_SIZE);
      // 'parameters' is mean ‖ logvar: the mean is the latent a picture most likely has.
      for (let j = 0; j < per; j++) latents[i * per + j] = enc.data[j]! * scaling;
    }
  } else {
    latents.set(new TorchGenerator(0n).randn([FIT_IMAGES, 4, h, w]));
  }
  const unscaled = latents.map((v) => v / scaling);
  const pixels = await model.decodeLatents(unscaled, FIT_IMAGES, h, w);
  const fitted = solveFactors(latents, pooledRgb(pixels, FIT_IMAGES, h, w), FIT_IMAGES, h * w);
  // A decoder that overflows (an fp16 VAE gives NaN) has nothing to fit: the caller falls back.
  if (!isFactorTable(fitted)) throw new Error('preview factor fit: the decoder gave non-finite values');
  return fitted;
}

/** [B, 3, 8h, 8w] decoded pixels, clamped to [−1, 1] as the final picture is, averaged over 8×8 blocks → [B, 3, h, w]. */
function pooledRgb(pixels: Float32Array, batch: number, h: number, w: number): Float64Array {
  const H = h * 8;
  const W = w * 8;
  const out = new Float64Array(batch * 3 * h * w);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < 3; c++) {
      const src = (b * 3 + c) * H * W;
      const dst = (b * 3 + c) * h * w;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) out[dst + (y >> 3) * w + (x >> 3)]! += Math.min(1, Math.max(-1, pixels[src + y * W + x]!)) / 64;
      }
    }
  }
  return out;
}

/** Least squares rgb ≈ [x0 x1 x2 x3 1]·[F; bias] per channel, over every position of [B, 4, h, w] / [B, 3, h, w]. */
function solveFactors(latents: Float32Array, rgb: Float64Array, batch: number, hw: number): FittedLatentRgbFactors {
  const n = batch * hw;
  const AtA = Array.from({ length: 5 }, () => new Float64Array(5));
  const AtB = Array.from({ length: 5 }, () => new Float64Array(3));
  const row = new Float64Array(5);
  const target = new Float64Array(3);
  const forEachSample = (visit: () => void): void => {
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < hw; i++) {
        for (let c = 0; c < 4; c++) row[c] = latents[(b * 4 + c) * hw + i]!;
        row[4] = 1;
        for (let c = 0; c < 3; c++) target[c] = rgb[(b * 3 + c) * hw + i]!;
        visit();
      }
    }
  };
  forEachSample(() => {
    for (let r = 0; r < 5; r++) {
      for (let k = 0; k < 5; k++) AtA[r]![k]! += row[r]! * row[k]!;
      for (let c = 0; c < 3; c++) AtB[r]![c]! += row[r]! * target[c]!;
    }
  });
  // A little ridge keeps the system solvable when the pictures leave a latent direction unused.
  const ridge = 1e-6 * (AtA[0]![0]! + AtA[1]![1]! + AtA[2]![2]! + AtA[3]![3]!);
  for (let r = 0; r < 4; r++) AtA[r]![r]! += ridge;
  const X = solve5(AtA, AtB);
  let sq = 0;
  forEachSample(() => {
    for (let c = 0; c < 3; c++) {
      let v = X[4]![c]!;
      for (let k = 0; k < 4; k++) v += row[k]! * X[k]![c]!;
      sq += (v - target[c]!) ** 2;
    }
  });
  const triple = (r: Float64Array): [number, number, number] => [r[0]!, r[1]!, r[2]!];
  return { factors: X.slice(0, 4).map(triple), bias: triple(X[4]!), samples: n, rmse: Math.sqrt(sq / (3 * n)) };
}

/** Gaussian elimination with partial pivoting: A (5×5) · X = B (5×3). */
function solve5(A: Float64Array[], B: Float64Array[]): Float64Array[] {
  const a = A.map((r) => Float64Array.from(r));
  const b = B.map((r) => Float64Array.from(r));
  const m = a.length;
  for (let col = 0; col < m; col++) {
    let pivot = col;
    for (let r = col + 1; r < m; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    [b[col], b[pivot]] = [b[pivot]!, b[col]!];
    const p = a[col]![col]!;
    if (Math.abs(p) < 1e-300) throw new Error('preview factor fit: singular system');
    for (let r = 0; r < m; r++) {
      if (r === col) continue;
      const f = a[r]![col]! / p;
      if (f === 0) continue;
      for (let k = col; k < m; k++) a[r]![k]! -= f * a[col]![k]!;
      for (let k = 0; k < 3; k++) b[r]![k]! -= f * b[col]![k]!;
    }
  }
  return b.map((row, r) => row.map((v) => v / a[r]![r]!));
}

/** Common named colours (red, green, blue, yellow, purple, orange, white, black, cyan, magenta, grey, brown). */
const NAMED_COLOURS: readonly (readonly [number, number, number])[] = [
  [220, 30, 30], [30, 160, 50], [30, 70, 220], [240, 220, 30], [140, 50, 180], [245, 135, 20],
  [245, 245, 245], [20, 20, 20], [0, 200, 200], [200, 0, 200], [128, 128, 128], [110, 70, 35],
];

/**
 * A seeded synthetic picture, [1, 3, H, W] in [−1, 1]: tiles of 64 × 64 pixels, each a flat background
 * with one flat circle or rectangle on it, in named colours half of the time and random ones otherwise:
 * simple pictures that any VAE reconstructs well, so the fit sees latents like those of real pictures.
 */
export function syntheticPicture(seed: number, height: number, width: number): Float32Array {
  let state = (seed + 1) * 0x9e3779b9;
  const random = (): number => {
    // mulberry32: small and seeded, enough for picking colours and shapes
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const colour = (): readonly number[] =>
    random() < 0.5 ? NAMED_COLOURS[Math.floor(random() * NAMED_COLOURS.length)]! : [random() * 255, random() * 255, random() * 255];
  const n = height * width;
  const out = new Float32Array(3 * n);
  const TILE = 64;
  for (let ty = 0; ty < height; ty += TILE) {
    for (let tx = 0; tx < width; tx += TILE) {
      const background = colour();
      const shape = colour();
      const cx = tx + TILE * (0.25 + random() * 0.5);
      const cy = ty + TILE * (0.25 + random() * 0.5);
      const r = TILE * (0.1 + random() * 0.2);
      const circle = random() < 0.5;
      for (let y = ty; y < Math.min(height, ty + TILE); y++) {
        for (let x = tx; x < Math.min(width, tx + TILE); x++) {
          const inside = circle ? (x - cx) ** 2 + (y - cy) ** 2 < r * r : Math.abs(x - cx) < r && Math.abs(y - cy) < r;
          const rgb = inside ? shape : background;
          for (let c = 0; c < 3; c++) out[c * n + y * width + x] = (rgb[c]! / 255) * 2 - 1;
        }
      }
    }
  }
  return out;
}
