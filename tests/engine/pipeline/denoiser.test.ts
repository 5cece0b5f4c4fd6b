// The denoiser wrappers on their own: what reaches the UNet, and what comes back, for every guidance
// mode and both inpainting kinds.
import { describe, expect, it } from 'vitest';
import { combineGuidance } from '../../../src-main/engine/pipeline/index.js';
import {
  schedulerStep,
  unetCall,
  withGuidance,
  withInpaintBlend,
  withInpaintConcat,
  type SchedulerStep,
  type UnetInput,
} from '../../../src-main/engine/pipeline/denoiser.js';
import type { TextConditioning } from '../../../src-main/engine/pipeline/conditioning.js';
import { createScheduler } from '../../../src-main/engine/schedulers/index.js';
import { SD15_SCHEDULER_CONFIG } from '../../../src-main/engine/schedulers/index.js';
import { TorchGenerator } from '../../../src-main/engine/random/index.js';
import { createFakeModel } from './fake-model.js';

const h = 2;
const w = 3;
const n = 4 * h * w;
const ramp = (length: number, k: number) => Float32Array.from({ length }, (_, i) => Math.sin(i * 0.7 + k));
const text: TextConditioning = { cond: ramp(77 * 8, 1), uncond: ramp(77 * 8, 2), sequenceLength: 77, hidden: 8, tokenCount: 3 };

/** A stand-in UNet: records its inputs; each sample's output depends on the sample, the text and t. */
function recordingUnet() {
  const calls: UnetInput[] = [];
  const unet = async (input: UnetInput) => {
    calls.push(input);
    const cin = input.sample.length / input.batch / (h * w);
    const out = new Float32Array(input.batch * n);
    for (let b = 0; b < input.batch; b++) {
      const e = input.encoderHiddenStates[b * 77 * 8 + 3]!;
      for (let i = 0; i < n; i++) out[b * n + i] = input.sample[b * cin * h * w + i]! * 0.5 + e + input.timestep * 1e-3;
    }
    return out;
  };
  return { calls, unet };
}

describe('withGuidance', () => {
  const x = ramp(n, 5);

  it('CFG as one batch-2 call: [x, x] with [uncond, cond], combined as uncond + s·(cond − uncond)', async () => {
    const { calls, unet } = recordingUnet();
    const out = await withGuidance(unet, text, { kind: 'cfg', scale: 7.5, batched: true })(x, 801);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ batch: 2, timestep: 801 });
    expect(Array.from(calls[0]!.sample)).toEqual([...x, ...x]);
    expect(Array.from(calls[0]!.encoderHiddenStates)).toEqual([...text.uncond!, ...text.cond]);
    const both = await unet(calls[0]!);
    expect(Array.from(out)).toEqual(Array.from(combineGuidance(both.subarray(0, n), both.subarray(n), 7.5)));
  });

  it('CFG as two batch-1 calls (uncond first) gives the same numbers', async () => {
    const batched = await withGuidance(recordingUnet().unet, text, { kind: 'cfg', scale: 7.5, batched: true })(x, 801);
    const { calls, unet } = recordingUnet();
    const sequential = await withGuidance(unet, text, { kind: 'cfg', scale: 7.5, batched: false })(x, 801);
    expect(calls.map((c) => [c.batch, c.timestep, c.encoderHiddenStates])).toEqual([
      [1, 801, text.uncond],
      [1, 801, text.cond],
    ]);
    expect(Array.from(sequential)).toEqual(Array.from(batched));
  });

  it("'none': the conditional pass alone; 'embedded' (LCM): the embedding as timestep_cond", async () => {
    const plain = recordingUnet();
    await withGuidance(plain.unet, { ...text, uncond: undefined } as TextConditioning, { kind: 'none' })(x, 10);
    expect(plain.calls).toEqual([{ sample: x, batch: 1, timestep: 10, encoderHiddenStates: text.cond }]);
    const lcm = recordingUnet();
    const embedding = ramp(32, 9);
    await withGuidance(lcm.unet, text, { kind: 'embedded', embedding })(x, 999);
    expect(lcm.calls).toEqual([{ sample: x, batch: 1, timestep: 999, encoderHiddenStates: text.cond, timestepCond: embedding }]);
  });
});

describe('unetCall', () => {
  it('passes sizes and the explicit timestep to the model, repeats timestep_cond over the batch, checks the output size', async () => {
    const m = createFakeModel();
    let counted = 0;
    const unet = unetCall(m, { latentHeight: h, latentWidth: w, sequenceLength: 77, signal: undefined, onCall: () => counted++ });
    const cond = ramp(4, 3);
    await unet({ sample: ramp(2 * n, 1), batch: 2, timestep: 500, encoderHiddenStates: ramp(2 * 77 * 8, 0), timestepCond: cond });
    expect(counted).toBe(1);
    expect(m.calls.unet[0]).toMatchObject({ batch: 2, timestep: 500, latentHeight: h, latentWidth: w, sequenceLength: 77 });
    expect(Array.from(m.calls.unet[0]!.timestepCond!)).toEqual([...cond, ...cond]);

    const short = unetCall({ ...m, predictNoise: async () => new Float32Array(n - 1) }, { latentHeight: h, latentWidth: w, sequenceLength: 77, signal: undefined });
    await expect(short({ sample: ramp(n, 1), batch: 1, timestep: 1, encoderHiddenStates: text.cond })).rejects.toMatchObject({ code: 'model-output' });
    const aborted = unetCall(m, { latentHeight: h, latentWidth: w, sequenceLength: 77, signal: AbortSignal.abort() });
    await expect(aborted({ sample: ramp(n, 1), batch: 1, timestep: 1, encoderHiddenStates: text.cond })).rejects.toMatchObject({ name: 'AbortError' });
    expect(m.calls.unet).toHaveLength(1);
  });
});

describe('inpainting wrappers', () => {
  const mask = Float32Array.from({ length: h * w }, (_, i) => (i % 2 === 0 ? 1 : 0));

  it('withInpaintConcat: the UNet gets [1, 9, h, w] = concat(x, mask, masked-image latents); CFG doubles that', async () => {
    const { calls, unet } = recordingUnet();
    const x = ramp(n, 1);
    const masked = ramp(n, 2);
    await withInpaintConcat(withGuidance(unet, text, { kind: 'cfg', scale: 3, batched: true }), mask, masked)(x, 42);
    const nine = [...x, ...mask, ...masked];
    expect(nine).toHaveLength(9 * h * w);
    expect(Array.from(calls[0]!.sample)).toEqual([...nine, ...nine]);
    expect(calls[0]!.timestep).toBe(42);
  });

  it('withInpaintBlend: outside the mask the init latents noised to the next step (un-noised after the last); x0 untouched', () => {
    const scheduler = createScheduler('euler', SD15_SCHEDULER_CONFIG);
    scheduler.setTimesteps(3);
    const imageLatents = ramp(n, 3);
    const noise = new TorchGenerator(1).randn([1, 4, h, w]);
    const x0 = ramp(n, 4);
    const stepped = ramp(n, 5);
    const inner: SchedulerStep = () => ({ prevSample: stepped, predOriginalSample: x0 });
    const step = withInpaintBlend(inner, scheduler, { imageLatents, noise, latentMask: mask, beginIndex: 0, steps: 3 });
    const first = step(ramp(n, 6), scheduler.timesteps[0]!, ramp(n, 7), 0);
    const noised = scheduler.addNoise(imageLatents, noise, 1);
    const last = step(ramp(n, 6), scheduler.timesteps[2]!, ramp(n, 7), 2);
    for (let k = 0; k < n; k++) {
      const repaint = mask[k % (h * w)] === 1;
      expect(first.prevSample[k]).toBe(repaint ? stepped[k] : noised[k]);
      expect(last.prevSample[k]).toBe(repaint ? stepped[k] : imageLatents[k]);
    }
    expect(first.predOriginalSample).toBe(x0);
  });

  it('schedulerStep passes the generator and eta through to the scheduler', () => {
    const run = (eta: number) => {
      const s = createScheduler('ddim', SD15_SCHEDULER_CONFIG);
      s.setTimesteps(4);
      return schedulerStep(s, { generator: new TorchGenerator(3), eta })(ramp(n, 1), s.timesteps[0]!, ramp(n, 2), 0).prevSample;
    };
    expect(Array.from(run(0))).not.toEqual(Array.from(run(1)));
  });
});
