#!/usr/bin/env node
// `npm run bench`: runs every benchmark script under tools/bench/, prints a summary and writes
// bench-results/latest.json (plus a timestamped copy). Benchmarks report numbers; they never fail
// a build. Each script prints JSON lines on stdout (one object per measurement, with a `bench`
// key); anything else a script prints is passed through to stderr.
//
// Usage: node tools/bench/run-all.mjs [name ...] [--no-torch] [--torch]
//   name     run only the benches whose file name contains it (pipeline, tokenizer, random, ...)
//   --torch  run the PyTorch UNet step even without the full-size model (slow: ~1 min)
//   --no-torch  never run it
// Environment: BENCH_THREADS (ONNX Runtime / torch threads, default: CPU count),
//   BENCH_TIMEOUT_S (per script, default 1800), BENCH_FULL_MODEL (path of the full-size model).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));
const forceTorch = args.includes('--torch');
const noTorch = args.includes('--no-torch');
const timeoutMs = Number(process.env.BENCH_TIMEOUT_S ?? 1800) * 1000;
const TORCH_PYTHON = process.env.BENCH_TORCH_PYTHON ?? '/usr/bin/python3';

/** Where pipeline.bench.ts looks for the full-size SD 1.5-shaped model (first that exists). */
const FULL_MODEL_CANDIDATES = [
  process.env.BENCH_FULL_MODEL,
  path.join(root, 'models-full/sd15-random'),
  path.join(root, 'models-full/sd15-full'),
].filter(Boolean);
const fullModel = FULL_MODEL_CANDIDATES.find((p) => existsSync(path.join(p, 'unet/model.onnx')));

function log(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

function runScript(name, command, commandArgs) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, commandArgs, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const records = [];
    let buffer = '';
    const takeLine = (line) => {
      const text = line.trim();
      if (text === '') return;
      if (text.startsWith('{')) {
        try {
          const obj = JSON.parse(text);
          if (obj && typeof obj === 'object') {
            records.push({ bench: name, ...obj });
            return;
          }
        } catch {
          // not JSON: pass through
        }
      }
      process.stderr.write(`  ${name}| ${line}\n`);
    };
    child.stdout.setEncoding('utf8').on('data', (d) => {
      buffer += d;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        takeLine(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      for (const line of d.split('\n')) if (line.trim() !== '') process.stderr.write(`  ${name}| ${line}\n`);
    });
    const timer = setTimeout(() => {
      log(`${name}: timed out after ${timeoutMs / 1000}s, stopping it`);
      child.kill('SIGTERM');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ name, records, code: null, error: error.message, ms: Date.now() - started });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (buffer) takeLine(buffer);
      resolve({ name, records, code, signal, ms: Date.now() - started });
    });
  });
}

// ---------------------------------------------------------------------------------------------- plan

const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts') || f.endsWith('.bench.mjs'))
  .sort((a, b) => (a === 'pipeline.bench.ts') - (b === 'pipeline.bench.ts') || a.localeCompare(b));
const plan = [];
for (const file of scripts) {
  const name = file.replace(/\.bench\.(ts|mjs)$/, '');
  if (filters.length && !filters.some((f) => name.includes(f))) continue;
  const full = path.join(here, file);
  plan.push({ name, command: process.execPath, args: file.endsWith('.ts') ? ['--import', 'tsx', full] : [full] });
}
const torchWanted = !noTorch && (!filters.length || filters.some((f) => 'torch_unet_step'.includes(f) || f === 'torch'));
const skipped = [];
if (torchWanted) {
  if (!existsSync(TORCH_PYTHON)) {
    skipped.push({ bench: 'torch_unet_step', skipped: `${TORCH_PYTHON} not found (Debian python3 with python3-torch)` });
  } else if (!fullModel && !forceTorch) {
    skipped.push({
      bench: 'torch_unet_step',
      skipped: 'no full-size model to compare with (pass --torch to run it anyway)',
    });
  } else {
    const threads = process.env.BENCH_THREADS ?? String(os.availableParallelism?.() ?? os.cpus().length);
    plan.push({ name: 'torch_unet_step', command: TORCH_PYTHON, args: [path.join(here, 'torch_unet_step.py'), '--threads', threads] });
  }
}

// ---------------------------------------------------------------------------------------------- run

const results = [];
const failures = [];
for (const step of plan) {
  log(`${step.name} ...`);
  const r = await runScript(step.name, step.command, step.args);
  log(`${step.name}: ${r.records.length} result(s) in ${(r.ms / 1000).toFixed(1)}s${r.code ? ` (exit ${r.code})` : ''}${r.signal ? ` (${r.signal})` : ''}`);
  results.push(...r.records);
  if (r.code !== 0 || r.error) failures.push({ bench: step.name, code: r.code, signal: r.signal ?? null, error: r.error ?? null });
}
for (const s of skipped) results.push(s);

// ---------------------------------------------------------------------------------------------- report

function fmt(v, digits = 1) {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(digits);
  return String(v);
}

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const out = [];
const pipeline = results.filter((r) => r.bench === 'pipeline' && !r.skipped);
if (pipeline.length) {
  out.push(
    'Pipeline (per model; ms; overhead = wall / time in session.run, goal <= 1.05; preview % of a step, goal < 1;\n' +
      'loop max = largest event-loop delay of the calling thread during an EngineClient generation, goal < 20 ms; idle max = the same\n' +
      'with nothing running (machine noise); main CPU% = CPU time of the calling thread / wall time)',
  );
  out.push(
    table(
      ['model', 'size', 'steps', 'text', 'unet/step', 'vae', 'total', 'overhead', 'preview%', 'loop max', 'idle max', 'main CPU%', 'peak RSS MB'],
      pipeline.map((r) => [
        r.model,
        `${r.width}x${r.height}`,
        fmt(r.steps),
        fmt(r.text_encode_ms),
        fmt(r.unet_step_ms),
        fmt(r.vae_decode_ms),
        fmt(r.total_ms, 0),
        fmt(r.overhead_ratio, 3),
        fmt(r.preview_pct_of_step, 2),
        fmt(r.event_loop_max_delay_ms),
        fmt(r.event_loop_idle_max_delay_ms),
        fmt(r.main_thread_cpu_pct, 2),
        fmt(r.peak_rss_mb, 0),
      ]),
    ),
  );
}
for (const r of results) {
  if (r.bench === 'pipeline' && !r.skipped) continue;
  if (r.skipped) {
    out.push(`${r.bench}${r.model ? ` (${r.model})` : ''}: skipped: ${r.skipped}`);
    continue;
  }
  const { bench, ...rest } = r;
  out.push(`${bench}: ${Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : fmt(v, 3)}`).join('  ')}`);
}
const torch = results.find((r) => r.bench === 'torch_unet_step' && !r.skipped);
const fullRow = pipeline.find((r) => r.full);
if (torch && fullRow && fullRow.unet_step_ms) {
  out.push(`UNet step, full size, batch 2: ONNX Runtime ${fmt(fullRow.unet_step_ms)} ms vs PyTorch ${fmt(torch.ms_per_step)} ms (${(fullRow.unet_step_ms / torch.ms_per_step).toFixed(2)}x)`);
}
const js = results.find((r) => r.bench === 'pipeline_js' && r.js_ms_per_step !== undefined);
const refStep = fullRow?.unet_step_ms ?? torch?.ms_per_step;
if (js && refStep) {
  const src = fullRow?.unet_step_ms ? 'the full-size model' : 'PyTorch';
  out.push(
    `Pipeline JavaScript at 512x512 against a UNet step of ${fmt(refStep)} ms (${src}): ${fmt(js.js_ms_per_step, 3)} ms/step = ` +
      `${((js.js_ms_per_step / refStep) * 100).toFixed(3)}% (overhead ratio ~${(1 + js.js_ms_per_step / refStep).toFixed(4)}), ` +
      `preview ${fmt(js.preview_ms_512, 3)} ms = ${((js.preview_ms_512 / refStep) * 100).toFixed(4)}% of a step`,
  );
}
for (const f of failures) out.push(`FAILED: ${f.bench} (exit ${f.code}${f.signal ? `, ${f.signal}` : ''}${f.error ? `: ${f.error}` : ''})`);
process.stdout.write(`\n${out.join('\n')}\n`);

const report = {
  date: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cpus: os.availableParallelism?.() ?? os.cpus().length,
  totalMemMb: Math.round(os.totalmem() / 2 ** 20),
  threads: process.env.BENCH_THREADS ? Number(process.env.BENCH_THREADS) : null,
  fullModel: fullModel ? path.relative(root, fullModel) : null,
  results,
  failures,
};
const dir = path.join(root, 'bench-results');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(path.join(dir, `${report.date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(report, null, 2)}\n`);
log(`wrote ${path.relative(process.cwd(), path.join(dir, 'latest.json'))}`);
// Benchmarks are numbers, not tests: a failing script is reported, and the exit code says so.
process.exitCode = failures.length ? 1 : 0;
