// Per-step time on every backend that really works here (`npm run bench:gpu`).
//
//   node --import tsx tools/bench/gpu.bench.ts
//
// Backends: each is probed first (a tiny session created and run, as `latent-studio backends` does); the
// ones that fail get one line with the reason and no timing. On a machine without a GPU only the CPU rows
// are measured.
// Models: tiny-sd15 (fp32) and tiny-sd15-fp16 at 64×64, the bundled demo model at its native size, and the
// SD 1.5-shaped full-size model at 512×512 when models-full/sd15-random exists (BENCH_FULL_MODEL=DIR points
// at another). The full model is never made here: `/usr/bin/python3 tools/make_test_models.py --full`.
// Per backend and model, one JSON line (bench "gpu"):
//   unet_step_ms   median denoising step (Euler, CFG as one batch-2 UNet call) over BENCH_REPEATS runs of
//                  BENCH_STEPS steps (full model: BENCH_FULL_STEPS, one run), after a 1-step warm-up that
//                  loads the sessions and lets GPU backends compile their kernels
//   load_ms        opening the model (sessions created) on that backend
//   dtype          the UNet's weights (fp32 or fp16)
// Not here (yet): rows for graphs optimized per backend (the optimizer is separate work) and PyTorch's time
// (tools/bench/torch_unet_step.py, run by `npm run bench` when the full model exists).
// Environment: BENCH_THREADS (CPU intra-op threads; default: onnxruntime's), BENCH_STEPS (default 8),
// BENCH_REPEATS (default 3), BENCH_FULL_STEPS (default 4), BENCH_BACKENDS (comma-separated, to restrict).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { openModel } from '../../src-main/engine/model/index.js';
import { generate } from '../../src-main/engine/pipeline/index.js';
import { probeAllBackends } from '../../src-main/engine/onnx/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const THREADS = Number(process.env.BENCH_THREADS ?? 0) || undefined;
const STEPS = Number(process.env.BENCH_STEPS ?? 8);
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3));
const FULL_STEPS = Number(process.env.BENCH_FULL_STEPS ?? 4);
const ONLY = process.env.BENCH_BACKENDS?.split(',').map((s) => s.trim()).filter(Boolean);

interface Target {
  name: string;
  dir: string;
  size: number;
  steps: number;
  repeats: number;
}

const round = (x: number, d = 2): number => Number(x.toFixed(d));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function nativeSize(dir: string): number {
  try {
    const cfg = JSON.parse(readFileSync(path.join(dir, 'unet/config.json'), 'utf8')) as { sample_size?: number };
    if (typeof cfg.sample_size === 'number' && cfg.sample_size > 0) return cfg.sample_size * 8;
  } catch {
    // no config: the SD 1.5 default
  }
  return 512;
}

function targets(): Target[] {
  const list: Target[] = [];
  for (const name of ['tiny-sd15', 'tiny-sd15-fp16']) {
    const dir = path.join(root, 'tests/models', name);
    if (existsSync(dir)) list.push({ name, dir, size: nativeSize(dir), steps: STEPS, repeats: REPEATS });
  }
  const demo = path.join(root, 'resources/models/latent-studio-demo');
  if (existsSync(path.join(demo, 'unet'))) list.push({ name: 'demo', dir: demo, size: nativeSize(demo), steps: STEPS, repeats: REPEATS });
  const full = [process.env.BENCH_FULL_MODEL, path.join(root, 'models-full/sd15-random')].find((p) => p && existsSync(path.join(p, 'unet/model.onnx')));
  if (full) list.push({ name: path.basename(full), dir: full, size: 512, steps: FULL_STEPS, repeats: 1 });
  return list;
}

async function measure(backend: string, t: Target): Promise<Record<string, unknown>> {
  const warnings: string[] = [];
  const l0 = performance.now();
  const model = await openModel(t.dir, { backend, ...(THREADS ? { threads: THREADS } : {}), onWarning: (m) => warnings.push(m) });
  const loadMs = performance.now() - l0;
  try {
    // A session that fell back to the CPU would time the CPU under the GPU's name.
    if (model.info.backend !== backend) return { backend, model: t.name, skipped: `ran on ${model.info.backend}: ${warnings.join(' ')}` };
    const request = { prompt: 'a lighthouse on a cliff at dusk', negativePrompt: 'blurry', seed: 1, width: t.size, height: t.size, cfgScale: 7, sampler: 'euler' as const };
    await generate(model, { ...request, steps: 1 });
    const stepMs: number[] = [];
    for (let i = 0; i < t.repeats; i++) {
      const [result] = await generate(model, { ...request, steps: t.steps });
      stepMs.push(result!.timings.stepMs);
    }
    return {
      backend,
      model: t.name,
      dtype: model.info.dtype === 'float16' ? 'fp16' : 'fp32',
      size: `${t.size}x${t.size}`,
      steps: t.steps,
      unet_step_ms: round(median(stepMs)),
      load_ms: round(loadMs, 0),
    };
  } finally {
    await model.dispose();
  }
}

const rows: Array<Record<string, unknown>> = [];
const emit = (row: Record<string, unknown>): void => {
  rows.push(row);
  console.log(JSON.stringify({ bench: 'gpu', ...row }));
};

for (const probe of await probeAllBackends()) {
  if (ONLY && !ONLY.includes(probe.name)) continue;
  if (!probe.works) {
    emit({ backend: probe.name, skipped: probe.reason ?? 'fails' });
    continue;
  }
  for (const t of targets()) emit(await measure(probe.name, t));
}

const measured = rows.filter((r) => r['unet_step_ms'] !== undefined);
console.error('\nbackend   model                 dtype  size      step (ms)');
for (const r of measured) {
  console.error(`${String(r['backend']).padEnd(9)} ${String(r['model']).padEnd(21)} ${String(r['dtype']).padEnd(6)} ${String(r['size']).padEnd(9)} ${r['unet_step_ms']}`);
}
for (const r of rows.filter((x) => x['skipped'] !== undefined)) console.error(`${String(r['backend']).padEnd(9)} not measured: ${r['skipped']}`);
