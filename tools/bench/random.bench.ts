// Times TorchGenerator.randn for SD latent shapes. Run: npx tsx tools/bench/random.bench.ts
// Prints one JSON line: milliseconds per draw (median of the timed runs).
import { TorchGenerator } from '../../src-main/engine/random/index.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeDraws(shape: number[], runs: number): number {
  const g = new TorchGenerator(0);
  for (let i = 0; i < 3; i++) g.randn(shape); // warm-up (JIT)
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    g.randn(shape);
    times.push(performance.now() - t0);
  }
  return median(times);
}

const result = {
  bench: 'random',
  ms_per_randn_1x4x64x64: Number(timeDraws([1, 4, 64, 64], 50).toFixed(3)),
  ms_per_randn_2x4x128x128: Number(timeDraws([2, 4, 128, 128], 15).toFixed(3)),
  ms_per_randn_small_7: Number(timeDraws([7], 200).toFixed(4)),
};
console.log(JSON.stringify(result));
