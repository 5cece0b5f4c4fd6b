// Child process of large-image.test.ts: one image-to-image run on tiny-sd15, then its own peak RSS.
// argv[2]: JSON { width, height, steps, strength, cfgScale }. Prints one JSON line.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { openModel } from '../../../src-main/engine/model/index.js';
import { generate } from '../../../src-main/engine/pipeline/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const job = JSON.parse(process.argv[2]!) as { width: number; height: number; steps: number; strength: number; cfgScale: number };
const peakMb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

const init = new Uint8Array(await sharp({ create: { width: job.width, height: job.height, channels: 3, background: { r: 90, g: 140, b: 200 } } }).png().toBuffer());
const model = await openModel(path.join(root, 'tests/models/tiny-sd15'));
const stages: Record<string, number> = { open: peakMb() };
let line: Record<string, unknown>;
try {
  const [result] = await generate(model, { prompt: 'a lake at dusk', ...job, seed: 3, sampler: 'euler', initImage: init }, {
    onProgress: (e) => (stages[`step${e.step}`] = peakMb()),
  });
  line = { ok: true, width: result!.width, height: result!.height, memory: result!.memory, timings: result!.timings };
} catch (err) {
  line = { ok: false, code: (err as { code?: string }).code, message: (err as Error).message };
}
stages['end'] = peakMb();
console.log(JSON.stringify({ ...line, peakMb: peakMb(), stages }));
await model.dispose();
