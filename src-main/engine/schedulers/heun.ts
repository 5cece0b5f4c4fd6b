// HeunDiscreteScheduler (diffusers v0.40.0 scheduling_heun_discrete.py), float32 op for op.
//
// Heun's 2nd-order method in sigma space. `setTimesteps(N)` gives 2N-1 model calls: timesteps
// [t0, t1, t1, t2, t2, ...] and sigmas [s0, s1, s1, ..., s_{N-1}, s_{N-1}, 0]. Each pair is an Euler predictor
// (first call, stores derivative/dt/sample) and a trapezoidal corrector (second call, scaled with the next sigma).
// The last call is a plain Euler step to sigma 0 (its stored derivative is never used).
// Supports prediction_type epsilon / v_prediction / sample, clip_sample, timestep_spacing
// leading / trailing / linspace, use_karras_sigmas and use_exponential_sigmas (use_beta_sigmas needs scipy's
// beta ppf and is rejected).

import { assertOneSigmaSpacing, assertStepCount, cfgBool, sampleClipRangeOf } from './config.js';
import { clipSampleInPlace, x0FromSigma } from './predicted-x0.js';
import { EulerTypeScheduler } from './sigma-scheduler.js';
import { eulerInitNoiseSigma } from './sigmas.js';
import type { SchedulerConfig, StepOptions, StepResult } from './types.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

/** diffusers HeunDiscreteScheduler.__init__ defaults. */
export const HEUN_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  clip_sample: false,
  clip_sample_range: 1.0,
  timestep_spacing: 'linspace',
  steps_offset: 0,
});

export class HeunDiscreteScheduler extends EulerTypeScheduler {
  readonly name = 'heun' as const;
  readonly order = 2;

  private readonly clip: number | null;
  // Predictor state (diffusers' prev_derivative / dt / sample); dt === null means "first order next".
  private dt: number | null = null;
  private prevDerivative: Float32Array = new Float32Array(0);
  private prevSample: Float32Array = new Float32Array(0);

  constructor(config?: SchedulerConfig) {
    super({ who: 'Heun', defaults: HEUN_DEFAULTS, config, predictions: ['epsilon', 'v_prediction', 'sample'], zeroSnrOption: false });
    const c = this.config;
    assertOneSigmaSpacing(c);
    if (cfgBool(c, 'use_beta_sigmas', false)) throw new Error('Heun: use_beta_sigmas is not supported');
    this.clip = sampleClipRangeOf(c, false);
    // diffusers' __init__ runs set_timesteps(num_train_timesteps).
    this.setTimesteps(this.schedule.numTrainTimesteps);
  }

  setTimesteps(numInferenceSteps: number): void {
    assertStepCount(numInferenceSteps, 'Heun');
    // Heun has no sigma_min / sigma_max config: Karras / exponential sigmas span the spacing's range.
    const { timesteps, sigmas } = this.spacedSigmas(numInferenceSteps, false);
    const s32 = [...sigmas, 0].map(f32);
    // sigmas: [s0, s1, s1, ..., s_{N-1}, s_{N-1}, 0]; timesteps: [t0, t1, t1, ..., t_{N-1}, t_{N-1}].
    const dupS: number[] = [s32[0]!];
    for (let i = 1; i < s32.length - 1; i++) dupS.push(s32[i]!, s32[i]!);
    dupS.push(s32[s32.length - 1]!);
    const t32 = timesteps.map(f32);
    const dupT: number[] = [t32[0]!];
    for (let i = 1; i < t32.length; i++) dupT.push(t32[i]!, t32[i]!);
    this.sigmas = dupS;
    this.timesteps = dupT;
    this.initNoiseSigma = eulerInitNoiseSigma(dupS, this.spacing);
    this.dt = null;
    this.resetStepIndex();
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _options: StepOptions = {}): StepResult {
    const idx = this.beginStep(modelOutput, timestep, sample);
    const firstOrder = this.dt === null;
    const sigma = firstOrder ? this.sigmas[idx]! : this.sigmas[idx - 1]!;
    const sigmaNext = firstOrder ? this.sigmas[idx + 1]! : this.sigmas[idx]!;
    const sigmaHat = sigma; // gamma = 0
    const sigmaInput = firstOrder ? sigmaHat : sigmaNext;
    const n = sample.length;

    const x0 = x0FromSigma(this.prediction, sigmaInput, modelOutput, sample);
    if (this.clip !== null) clipSampleInPlace(x0, this.clip);

    const prev = new Float32Array(n);
    if (firstOrder) {
      const dt = f32(sigmaNext - sigmaHat);
      if (this.prevDerivative.length !== n) {
        this.prevDerivative = new Float32Array(n);
        this.prevSample = new Float32Array(n);
      }
      const d = this.prevDerivative;
      for (let i = 0; i < n; i++) {
        const der = f32(f32(sample[i]! - x0[i]!) / sigmaHat);
        d[i] = der;
        prev[i] = sample[i]! + f32(der * dt);
      }
      this.prevSample.set(sample);
      this.dt = dt;
    } else {
      const dt = this.dt!;
      const d = this.prevDerivative;
      const s0 = this.prevSample;
      for (let i = 0; i < n; i++) {
        const der2 = f32(f32(sample[i]! - x0[i]!) / sigmaNext);
        const der = f32(f32(d[i]! + der2) / 2);
        prev[i] = s0[i]! + f32(der * dt);
      }
      this.dt = null;
    }
    this.stepIndex = idx + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }
}
