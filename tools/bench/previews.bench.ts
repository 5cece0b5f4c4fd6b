// Preview benchmark: what live previews cost with latent → RGB factors fitted to the model's VAE decoder.
//
//   node --import tsx tools/bench/previews.bench.ts            (npm run bench runs it)
//
// Per model (the demo model at 64×64, tests/models/tiny-sd15 at 64×64, and the full-size SD 1.5-shaped
// model at 512×512 when it exists, see pipeline.bench.ts), one JSON line (bench "previews"):
//   fit_ms              fitting the factors once (VAE encode + decode of two 256×256 pictures + least
//                       squares); paid by the model's first previewed request, then cached beside it
//   step_ms             mean denoising step (text-to-image, previews every step)
//   preview_ms          mean latent preview (x0 estimate → RGB at latent size)
//   preview_pct_of_step preview_ms / step_ms; goal < 1
//   inpaint_step_ms, inpaint_preview_ms, inpaint_preview_pct_of_step
//                       the same for whole-image inpainting, whose previews are composited with the
//                       init image at the picture size (scaled up, mask composite)
// Environment: BENCH_THREADS (ORT intra-op threads; default: CPU count), BENCH_STEPS (default 20,
// full-size model BENCH_FULL_STEPS, default 4), BENCH_REPEATS (default 3, after a warm-up run), BENCH_MODELS (comma-separated names), BENCH_FULL_MODEL (the full-size folder).
// Each model runs on a temporary copy, so the cached factors never land in the repository.
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { openModel } from '../../src-main/engine/model/index.js';
import { generate, type GenerateTimings } from '../../src-main/engine/pipeline/index.js';
import { fitLatentRgbFactors } from '../../src-main/engine/pipeline/preview-factors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const THREADS = Number(process.env.BENCH_THREADS ?? 0) || (os.availableParallelism?.() ?? os.cpus().length);
const STEPS = Number(process.env.BENCH_STEPS ?? 20);
/** Timed runs per measurement after a warm-up (the median preview share is reported). */
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3));
const FULL_DIR = [process.env.BENCH_FULL_MODEL, path.join(root, 'models-full/sd15-random')].find(
  (p): p is string => typeof p === 'string' && p !== '' && existsSync(path.join(p, 'unet/model.onnx')),
);

interface Target {
  name: string;
  dir: string;
  size: number;
  steps: number;
  /** Copy to a temporary folder (small models); the full-size one is used in place, its cache gitignored. */
  copy: boolean;
}

const targets: Target[] = [
  { name: 'latent-studio-demo', dir: path.join(root, 'resources/models/latent-studio-demo'), size: 64, steps: STEPS, copy: true },
  { name: 'tiny-sd15', dir: path.join(root, 'tests/models/tiny-sd15'), size: 64, steps: STEPS, copy: true },
  ...(FULL_DIR ? [{ name: path.basename(FULL_DIR), dir: FULL_DIR, size: 512, steps: Number(process.env.BENCH_FULL_STEPS ?? 4), copy: false }] : []),
];
const only = process.env.BENCH_MODELS?.split(',').map((s) => s.trim());

/** A flat grey init image with a darker square, and a mask over its middle. */
async function inpaintInputs(size: number): Promise<{ initImage: Uint8Array; mask: Uint8Array }> {
  const rgb = new Uint8Array(size * size * 3).fill(160);
  const mask = new Uint8Array(size * size);
  for (let y = size / 4; y < (3 * size) / 4; y++) {
    for (let x = size / 4; x < (3 * size) / 4; x++) {
      mask[y * size + x] = 255;
      rgb.fill(60, (y * size + x) * 3, (y * size + x) * 3 + 3);
    }
  }
  const png = async (data: Uint8Array, channels: 1 | 3): Promise<Uint8Array> => new Uint8Array(await sharp(data, { raw: { width: size, height: size, channels } }).png().toBuffer());
  return { initImage: await png(rgb, 3), mask: await png(mask, 1) };
}

async function measure(t: Target): Promise<Record<string, unknown>> {
  const dir = t.copy ? await mkdtemp(path.join(os.tmpdir(), `bench-previews-${t.name}-`)) : t.dir;
  if (t.copy) await cp(t.dir, dir, { recursive: true });
  const model = await openModel(dir, { threads: THREADS });
  try {
    const fitStart = performance.now();
    const fitted = await fitLatentRgbFactors(model);
    const fitMs = performance.now() - fitStart;
    const request = { prompt: 'a large red circle in the center on a white background', width: t.size, height: t.size, steps: t.steps, seed: 1, sampler: 'euler' as const };
    const run = async (extra: object): Promise<GenerateTimings> => {
      const [res] = await generate(model, { ...request, ...extra }, { onPreview: () => undefined });
      return res!.timings;
    };
    const inpaint = { ...(await inpaintInputs(t.size)), strength: 1 };
    // Warm-up (JIT, arenas; the first also fits and caches the factors), then the median of REPEATS runs.
    const median = async (extra: object): Promise<GenerateTimings> => {
      await run(extra);
      const runs: GenerateTimings[] = [];
      for (let i = 0; i < REPEATS; i++) runs.push(await run(extra));
      runs.sort((a, b) => a.previewMs / a.stepMs - b.previewMs / b.stepMs);
      return runs[Math.floor(runs.length / 2)]!;
    };
    const txt = await median({});
    const inp = await median(inpaint);
    const cached = existsSync(path.join(dir, '.latent-studio/preview-factors.json'));
    const round = (v: number, d = 3): number => Number(v.toFixed(d));
    return {
      bench: 'previews',
      model: t.name,
      size: t.size,
      steps: t.steps,
      threads: THREADS,
      fit_ms: round(fitMs, 1),
      fit_rmse: round(fitted.rmse),
      cached,
      step_ms: round(txt.stepMs),
      preview_ms: round(txt.previewMs, 4),
      preview_pct_of_step: round((100 * txt.previewMs) / txt.stepMs),
      inpaint_step_ms: round(inp.stepMs),
      inpaint_preview_ms: round(inp.previewMs, 4),
      inpaint_preview_pct_of_step: round((100 * inp.previewMs) / inp.stepMs),
    };
  } finally {
    await model.dispose();
    if (t.copy) await rm(dir, { recursive: true, force: true }); // the full-size model keeps its (gitignored) cache
  }
}

for (const t of targets) {
  if (only && !only.includes(t.name)) continue;
  if (!existsSync(path.join(t.dir, 'unet/model.onnx'))) {
    process.stderr.write(`previews: ${t.name} not found at ${t.dir}, skipped\n`);
    continue;
  }
  process.stdout.write(`${JSON.stringify(await measure(t))}\n`);
}
