// Pipeline benchmark: per model, where the time of a generation goes, how much the JS around
// session.run costs, what previews cost, whether the calling thread stays responsive, and peak memory.
//
//   node --import tsx tools/bench/pipeline.bench.ts            (npm run bench runs it)
//
// Models: every tiny test model (tests/models/tiny-*) at its native size (unet/config.json
// sample_size × 8), and the full-size SD 1.5-shaped model at 512×512 when it exists
// (models-full/sd15-random, made by `/usr/bin/python3 tools/make_test_models.py --full`).
// Each model is measured in a fresh child process so that its peak RSS is its own.
//
// Per model, one JSON line (bench "pipeline"):
//   text_encode_ms      prompt + negative prompt through the text encoder (one call, batch 2)
//   unet_step_ms        UNet time per denoising step (batch 2 = classifier-free guidance; two
//                       batch-1 calls for UNets exported with a fixed batch of 1)
//   vae_decode_ms       one VAE decode
//   total_ms            wall time of a generate() call (in this thread, no previews)
//   overhead_ratio      total_ms / time inside session.run (model.stats.sessionRunMs); goal <= 1.05
//   preview_pct_of_step latent→RGB preview cost as % of a step (pipeline's own timings); goal < 1
//   event_loop_max_delay_ms  largest event-loop delay of the calling thread while EngineClient
//                       generated (previews on, events flowing); goal < 20. Read it against
//                       event_loop_idle_max_delay_ms (same monitor, nothing running: OS scheduling
//                       noise on a busy machine) and main_thread_cpu_pct (CPU time of the calling
//                       thread / wall time, from /proc: how busy it really was)
//   client_total_ms     the same generation through EngineClient (worker thread, previews on);
//                       client_vs_in_thread = client_total_ms / total_ms
//   peak_rss_mb         process peak RSS (main thread + engine worker: one process) after the
//                       EngineClient run, before anything else is loaded
// Environment: BENCH_THREADS (ORT intra-op threads; default: CPU count), BENCH_STEPS (tiny models,
// default 20), BENCH_REPEATS (tiny models, default 5; median reported), BENCH_FULL_STEPS (default 4),
// BENCH_MODELS (comma-separated names to run, 'synthetic' included), BENCH_FULL_MODEL (the
// full-size model folder). A 'pipeline_js' line measures the pipeline's own JavaScript at 512×512
// with an instant stand-in for the networks (see measureSyntheticFull).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { openModel } from '../../src-main/engine/model/index.js';
import { generate, parseGenerateRequest, type GenerateRequest, type PipelineModel } from '../../src-main/engine/pipeline/index.js';
import { EngineClient } from '../../src-main/engine/worker/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const THREADS = Number(process.env.BENCH_THREADS ?? 0) || (os.availableParallelism?.() ?? os.cpus().length);
const STEPS = Number(process.env.BENCH_STEPS ?? 20);
const FULL_STEPS = Number(process.env.BENCH_FULL_STEPS ?? 4);
/** Timed repetitions per measurement (median reported); the full-size model runs once. */
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 5));
const FULL_CANDIDATES = [process.env.BENCH_FULL_MODEL, path.join(root, 'models-full/sd15-random'), path.join(root, 'models-full/sd15-full')].filter(
  (p): p is string => typeof p === 'string' && p !== '',
);
const MAKE_FULL = '/usr/bin/python3 tools/make_test_models.py --full   (writes models-full/sd15-random; many minutes of CPU, ~16 GB RAM)';

interface Target {
  name: string;
  dir: string;
  width: number;
  height: number;
  steps: number;
  full: boolean;
}

const round = (x: number, d = 2): number => Number(x.toFixed(d));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mb = (kb: number): number => round(kb / 1024, 0);

function nativeSize(dir: string): number {
  try {
    const cfg = JSON.parse(readFileSync(path.join(dir, 'unet/config.json'), 'utf8')) as { sample_size?: number };
    if (typeof cfg.sample_size === 'number' && cfg.sample_size > 0) return cfg.sample_size * 8;
  } catch {
    // fall through
  }
  return 512;
}

function targets(): { list: Target[]; skipped: Array<Record<string, unknown>> } {
  const only = process.env.BENCH_MODELS?.split(',').map((s) => s.trim()).filter(Boolean);
  const list: Target[] = [];
  const skipped: Array<Record<string, unknown>> = [];
  const modelsDir = path.join(root, 'tests/models');
  const tiny = existsSync(modelsDir) ? readdirSync(modelsDir).filter((n) => n.startsWith('tiny-')).sort() : [];
  for (const name of tiny) {
    const dir = path.join(modelsDir, name);
    const size = nativeSize(dir);
    list.push({ name, dir, width: size, height: size, steps: STEPS, full: false });
  }
  const full = FULL_CANDIDATES.find((p) => existsSync(path.join(p, 'unet/model.onnx')));
  if (full) list.push({ name: path.basename(full), dir: full, width: 512, height: 512, steps: FULL_STEPS, full: true });
  else skipped.push({ model: 'sd15-full', full: true, skipped: `no full-size model (looked in ${FULL_CANDIDATES.map((p) => path.relative(root, p)).join(', ')}); make it with: ${MAKE_FULL}` });
  return { list: only ? list.filter((t) => only.includes(t.name)) : list, skipped };
}

function request(t: Target, steps: number, previewEvery: number): GenerateRequest {
  return {
    prompt: 'a lighthouse on a cliff at dusk, oil painting, dramatic light',
    negativePrompt: 'blurry, low quality',
    steps,
    seed: 1234,
    width: t.width,
    height: t.height,
    cfgScale: 7,
    previewEvery,
    // Full size: Euler, one UNet call per step (PNDM's default adds one).
    ...(t.full ? { sampler: 'euler' as const } : {}),
  };
}

/**
 * CPU time of this process's main thread (Linux: /proc/self/task/<pid>/stat utime+stime, 10 ms
 * ticks), unlike event-loop utilization not inflated when a busy machine deschedules the thread.
 */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime (fields 14 and 15), USER_HZ = 100
  } catch {
    return undefined;
  }
}

/** One step at the native size; the full-size model at 64×64 (loads every session, costs seconds). */
function warmup(t: Target): GenerateRequest {
  return t.full ? { ...request(t, 1, 0), width: 64, height: 64 } : request(t, 1, 0);
}

// ------------------------------------------------------------------------------------------ child

async function measure(t: Target): Promise<Record<string, unknown>> {
  const repeats = t.full ? 1 : REPEATS;
  const out: Record<string, unknown> = { model: t.name, full: t.full, width: t.width, height: t.height, steps: t.steps, threads: THREADS, repeats };
  const modelRef = { dir: t.dir, threads: THREADS };
  const rssBeforeKb = process.resourceUsage().maxRSS;

  // 1. Through EngineClient (the worker), as the app and the CLI run it: event-loop delay of this
  //    thread while previews and progress events flow, wall time, and the process's peak RSS.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const client = await EngineClient.start();
  let previews = 0;
  try {
    // Load + warm-up (one step; the full-size model at 64×64 so that it costs seconds, not minutes),
    // with its own event-loop monitor: session creation happens in the worker meanwhile.
    const loadLoop = monitorEventLoopDelay({ resolution: 1 });
    loadLoop.enable();
    const w0 = performance.now();
    await client.generate(parseGenerateRequest(warmup(t)), { model: modelRef });
    out.client_load_and_warmup_ms = round(performance.now() - w0, 1);
    loadLoop.disable();
    out.event_loop_max_delay_during_load_ms = round(loadLoop.max / 1e6, 2);
    loop.enable();
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = mainThreadCpuMs();
    const walls: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const c0 = performance.now();
      await client.generate(parseGenerateRequest(request(t, t.steps, 1)), { model: modelRef, onPreview: () => previews++, onProgress: () => undefined });
      walls.push(performance.now() - c0);
    }
    loop.disable();
    // Share of the wall time this thread spent running callbacks (progress/preview events, promises).
    out.event_loop_utilization = round(performance.eventLoopUtilization(elu0).utilization, 4);
    const cpu1 = mainThreadCpuMs();
    if (cpu0 !== undefined && cpu1 !== undefined) {
      out.main_thread_cpu_ms = cpu1 - cpu0;
      out.main_thread_cpu_pct = round(((cpu1 - cpu0) / walls.reduce((a, b) => a + b, 0)) * 100, 2);
    }
    out.client_total_ms = round(median(walls), 1);
  } finally {
    await client.close();
  }
  out.event_loop_max_delay_ms = round(loop.max / 1e6, 2);
  // The same monitor with nothing running, for as long: what the OS scheduler alone costs on this
  // (possibly busy) machine, so the number above can be read against it.
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((r) => setTimeout(r, Math.min(5000, Math.max(200, Number(out.client_total_ms) * repeats))));
  idle.disable();
  out.event_loop_idle_max_delay_ms = round(idle.max / 1e6, 2);
  out.event_loop_p99_delay_ms = round(loop.percentile(99) / 1e6, 2);
  out.client_previews = previews / repeats;
  out.peak_rss_mb = mb(process.resourceUsage().maxRSS);
  out.rss_before_engine_mb = mb(rssBeforeKb);

  // 2. In this thread with openModel + generate(): a breakdown through a timing wrapper, and the
  //    time inside session.run from the model's own counters.
  const l0 = performance.now();
  const model = await openModel(t.dir, { threads: THREADS });
  out.load_ms = round(performance.now() - l0, 1);
  out.variant = model.info.variant;
  out.backend = model.info.backend;
  const acc = { text: 0, textCalls: 0, unet: 0, unetCalls: 0, vae: 0, vaeCalls: 0 };
  const timed: PipelineModel = {
    info: model.info,
    tokenizer: model.tokenizer,
    encodeText: async (ids) => {
      const s = performance.now();
      try {
        return await model.encodeText(ids);
      } finally {
        acc.text += performance.now() - s;
        acc.textCalls++;
      }
    },
    predictNoise: async (args) => {
      const s = performance.now();
      try {
        return await model.predictNoise(args);
      } finally {
        acc.unet += performance.now() - s;
        acc.unetCalls++;
      }
    },
    encodeImage: (pixels, h, w) => model.encodeImage(pixels, h, w),
    decodeLatents: async (latents, batch, h, w) => {
      const s = performance.now();
      try {
        return await model.decodeLatents(latents, batch, h, w);
      } finally {
        acc.vae += performance.now() - s;
        acc.vaeCalls++;
      }
    },
  };
  try {
    await generate(timed, warmup(t));
    Object.assign(acc, { text: 0, textCalls: 0, unet: 0, unetCalls: 0, vae: 0, vaeCalls: 0 });
    const walls: number[] = [];
    const inRuns: number[] = [];
    const ratios: number[] = [];
    let steps = t.steps;
    for (let i = 0; i < repeats; i++) {
      const run0 = model.stats.sessionRunMs;
      const w0 = performance.now();
      const [result] = await generate(timed, request(t, t.steps, 0));
      const wall = performance.now() - w0;
      const inRun = model.stats.sessionRunMs - run0;
      walls.push(wall);
      inRuns.push(inRun);
      ratios.push(wall / inRun);
      steps = result?.timings.steps ?? t.steps;
    }
    out.text_encode_ms = round(acc.text / Math.max(1, acc.textCalls));
    out.unet_step_ms = round(acc.unet / Math.max(1, steps * repeats));
    out.unet_calls_per_image = acc.unetCalls / repeats;
    out.denoise_steps = steps;
    out.vae_decode_ms = round(acc.vae / Math.max(1, acc.vaeCalls));
    out.total_ms = round(median(walls), 1);
    out.session_run_ms = round(median(inRuns), 1);
    out.overhead_ratio = round(median(ratios), 3);
    if (!t.full) out.client_vs_in_thread = round((out.client_total_ms as number) / median(walls), 3);

    // Previews on: the pipeline's own mean time per latent preview against its mean step time.
    // (The full-size model skips this: run-all estimates it from the pipeline_js line.)
    const pct: number[] = [];
    const previewMs: number[] = [];
    for (let i = 0; i < (t.full ? 0 : repeats); i++) {
      const [withPreviews] = await generate(timed, request(t, t.steps, 1), { onPreview: () => undefined });
      const p = withPreviews?.timings;
      if (p && p.previews > 0 && p.stepMs > 0) {
        previewMs.push(p.previewMs);
        pct.push((p.previewMs / p.stepMs) * 100);
      }
    }
    if (pct.length) {
      out.preview_ms = round(median(previewMs), 3);
      out.preview_pct_of_step = round(median(pct), 3);
    }
  } finally {
    await model.dispose();
  }
  return out;
}

/**
 * The pipeline's own JavaScript at a full-size shape, with an instant stand-in for the networks
 * (the PipelineModel seam): what every step costs besides session.run at 512×512 (scheduler, CFG,
 * tensor copies, checks), plus one preview and the PNG encoding. Divided by a real UNet step time
 * (the full-size model's, or PyTorch's) this bounds the overhead ratio and preview share there.
 */
async function measureSyntheticFull(): Promise<Record<string, unknown>> {
  const base = await openModel(path.join(root, 'tests/models/tiny-sd15'), { threads: 1 });
  const patterns = new Map<number, Float32Array>();
  const pattern = (length: number): Float32Array => {
    let p = patterns.get(length);
    if (!p) {
      p = new Float32Array(length);
      for (let i = 0; i < length; i++) p[i] = Math.sin(i) * 0.5;
      patterns.set(length, p);
    }
    return p;
  };
  const hidden = 768;
  const size = 512;
  const lat = size / 8;
  const fake: PipelineModel = {
    info: { ...base.info, textHiddenSize: hidden, name: 'synthetic-sd15-512' },
    tokenizer: base.tokenizer,
    encodeText: async (ids) => new Float32Array(ids.length * 77 * hidden),
    // A fixed, non-zero noise prediction (so the scheduler does real arithmetic), copied per call:
    // a memcpy of the output size, as onnxruntime-node's output copy costs.
    predictNoise: async (args) => pattern(args.batch * 4 * args.latentHeight * args.latentWidth).slice(),
    encodeImage: async () => ({ kind: 'sample', data: new Float32Array(4 * lat * lat) }),
    decodeLatents: async (_l, batch) => pattern(batch * 3 * size * size).slice(),
  };
  const steps = 20;
  const req = (previewEvery: number): GenerateRequest => ({
    prompt: 'a lighthouse', negativePrompt: 'blurry', steps, seed: 1, width: size, height: size, cfgScale: 7, previewEvery, sampler: 'euler',
  });
  await generate(fake, req(0));
  const stepMs: number[] = [];
  const totals: number[] = [];
  const previewMs: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    const [plain] = await generate(fake, req(0));
    totals.push(performance.now() - t0);
    stepMs.push(plain!.timings.stepMs);
    const [withPreviews] = await generate(fake, req(1), { onPreview: () => undefined });
    previewMs.push(withPreviews!.timings.previewMs);
  }
  await base.dispose();
  const jsStep = median(stepMs);
  return {
    model: 'synthetic-512',
    full: false,
    synthetic: true,
    width: size,
    height: size,
    steps,
    sampler: 'euler',
    js_ms_per_step: round(jsStep, 3),
    js_ms_per_generate_outside_steps: round(median(totals) - steps * median(stepMs), 1),
    preview_ms_512: round(median(previewMs), 3),
    note: 'networks replaced by an instant stand-in: pipeline JS only; divide by a real UNet step time',
  };
}

// ------------------------------------------------------------------------------------------ parent

function runChild(t: Target): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', JSON.stringify(t)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('close', (code, signal) => {
      const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (code === 0 && line) resolve(JSON.parse(line) as Record<string, unknown>);
      else resolve({ model: t.name, full: t.full, error: `child exited with ${signal ?? code}: ${stdout.trim().slice(-500)}` });
    });
  });
}

const oneIndex = process.argv.indexOf('--one');
if (oneIndex >= 0) {
  const t = JSON.parse(process.argv[oneIndex + 1]!) as Target;
  try {
    console.log(JSON.stringify(t.name === 'synthetic-512' ? await measureSyntheticFull() : await measure(t)));
  } catch (error) {
    console.log(JSON.stringify({ model: t.name, full: t.full, error: (error as Error).message }));
    process.exitCode = 1;
  }
  // The engine worker and ORT keep handles; the measurement is done.
  process.exit();
} else {
  const { list, skipped } = targets();
  for (const s of skipped) {
    process.stderr.write(`pipeline: skipping the full-size model: ${String(s.skipped)}\n`);
    console.log(JSON.stringify({ bench: 'pipeline', ...s }));
  }
  let failed = false;
  if (!process.env.BENCH_MODELS || process.env.BENCH_MODELS.includes('synthetic')) {
    process.stderr.write('pipeline: synthetic 512x512 (pipeline JavaScript only)\n');
    const r = await runChild({ name: 'synthetic-512', dir: '', width: 512, height: 512, steps: 20, full: false });
    if (r.error) failed = true;
    console.log(JSON.stringify({ bench: 'pipeline_js', ...r }));
  }
  for (const t of list) {
    process.stderr.write(`pipeline: ${t.name} ${t.width}x${t.height}, ${t.steps} steps, ${THREADS} threads\n`);
    const r = await runChild(t);
    if (r.error) failed = true;
    console.log(JSON.stringify({ bench: 'pipeline', ...r }));
  }
  process.exitCode = failed ? 1 : 0;
}
