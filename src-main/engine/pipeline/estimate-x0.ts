// The clean-latent estimate for previews when the scheduler does not report one (PNDM).
import { getNoiseSchedule } from '../schedulers/index.js';
import type { Scheduler } from '../schedulers/types.js';

/** x0 from the model output at timestep t and the sample it was given (the latents before the step). */
export function estimateX0(scheduler: Scheduler, sample: Float32Array, output: Float32Array, t: number): Float32Array {
  const sched = getNoiseSchedule(scheduler.config);
  const T = sched.numTrainTimesteps;
  const tc = Math.min(T - 1, Math.max(0, t));
  const lo = Math.floor(tc);
  const hi = Math.min(T - 1, lo + 1);
  const sigma = sched.sigmaTable[lo]! + (sched.sigmaTable[hi]! - sched.sigmaTable[lo]!) * (tc - lo);
  const pred = String(scheduler.config['prediction_type'] ?? 'epsilon');
  const x0 = new Float32Array(sample.length);
  if (scheduler.sigmas) {
    // σ-space sample: x = x0 + σ·ε
    const c = 1 / Math.sqrt(sigma * sigma + 1);
    for (let i = 0; i < x0.length; i++) {
      x0[i] = pred === 'v_prediction' ? output[i]! * (-sigma * c) + sample[i]! * c * c : pred === 'sample' ? output[i]! : sample[i]! - sigma * output[i]!;
    }
  } else {
    const ac = 1 / (sigma * sigma + 1);
    const a = Math.sqrt(ac);
    const b = Math.sqrt(1 - ac);
    for (let i = 0; i < x0.length; i++) {
      x0[i] = pred === 'v_prediction' ? a * sample[i]! - b * output[i]! : pred === 'sample' ? output[i]! : (sample[i]! - b * output[i]!) / a;
    }
  }
  return x0;
}
