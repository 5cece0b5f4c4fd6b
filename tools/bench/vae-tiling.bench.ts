// Tiled versus untiled VAE decode: time and peak memory, each size and mode in a fresh child process.
//
//   node --import tsx tools/bench/vae-tiling.bench.ts [MODEL_DIR] [SIZES]     e.g. tests/models/tiny-sd15 1024,2048
//
// One JSON line per measurement (bench "vae-tiling"): size, tiled, tiles, decode_ms (median of
// BENCH_REPEATS, default 3), peak_rss_mb (the child's VmHWM), estimate_mb (memory-guard's estimate of the
// decode stage). An untiled decode whose estimate exceeds the memory this machine can have is skipped
// (skipped: true) rather than run into the kernel's OOM killer.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openModel } from '../../src-main/engine/model/index.js';
import { availableMemoryBytes, estimateStages } from '../../src-main/engine/pipeline/memory-guard.js';
import { tiledDecode, vaeTileSizes, tileCount } from '../../src-main/engine/pipeline/vae-tiling.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [dirArg, sizesArg, child] = process.argv.slice(2);
const dir = path.resolve(root, dirArg ?? 'tests/models/tiny-sd15');
const sizes = (sizesArg ?? '1024,2048').split(',').map(Number);
const repeats = Number(process.env['BENCH_REPEATS'] ?? 3);

async function measure(size: number, tiled: boolean): Promise<void> {
  const model = await openModel(dir);
  const l = size / 8;
  const latents = new Float32Array(4 * l * l).map((_, i) => Math.sin(i * 0.37));
  const { latentTile } = vaeTileSizes(model.info.memory.vaeSampleSize);
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    if (tiled) await tiledDecode({ data: latents, channels: 4, height: l, width: l }, latentTile, 3, (tile) => model.decodeLatents(tile.data, 1, tile.height, tile.width));
    else await model.decodeLatents(latents, 1, l, l);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
  const estimate = estimateStages(model.info.memory, { width: size, height: size, cfg: 'none', encodes: 0 }, tiled).vaeDecode;
  console.log(JSON.stringify({ bench: 'vae-tiling', model: path.basename(dir), size, tiled, tiles: tiled ? tileCount(l, latentTile) ** 2 : 1, decode_ms: Math.round(times[times.length >> 1]!), peak_rss_mb: Math.round(hwm), estimate_mb: Math.round(estimate / 2 ** 20) }));
  await model.dispose();
}

if (child) {
  const [size, tiled] = child.split(':');
  await measure(Number(size), tiled === 'tiled');
} else {
  const model = await openModel(dir);
  const facts = model.info.memory;
  await model.dispose();
  for (const size of sizes) {
    for (const tiled of [false, true]) {
      const estimate = estimateStages(facts, { width: size, height: size, cfg: 'none', encodes: 0 }, tiled).vaeDecode;
      if (!tiled && estimate > availableMemoryBytes()) {
        console.log(JSON.stringify({ bench: 'vae-tiling', model: path.basename(dir), size, tiled, skipped: true, estimate_mb: Math.round(estimate / 2 ** 20) }));
        continue;
      }
      process.stdout.write(execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), dir, String(size), `${size}:${tiled ? 'tiled' : 'whole'}`], { encoding: 'utf8' }));
    }
  }
}
