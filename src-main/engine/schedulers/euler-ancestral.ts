// EulerAncestralDiscreteScheduler (diffusers v0.40.0 scheduling_euler_ancestral_discrete.py), float32 op for op.
// Draws one randn per step (the last included, where sigma_up = 0).

import { assertStepCount } from './config.js';
import { sqrt32 } from './numerics/float32.js';
import { x0FromSigma } from './predicted-x0.js';
import { EulerTypeScheduler } from './sigma-scheduler.js';
import { eulerInitNoiseSigma, interpSigmas } from './sigmas.js';
import { floatTimesteps } from './timesteps.js';
import type { SchedulerConfig, StepOptions, StepResult } from './types.js';
import { drawNoise } from './vector-ops.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

/** diffusers EulerAncestralDiscreteScheduler.__init__ defaults. */
export const EULER_ANCESTRAL_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  timestep_spacing: 'linspace',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
});

export class EulerAncestralDiscreteScheduler extends EulerTypeScheduler {
  readonly name = 'euler-ancestral' as const;
  readonly order = 1;

  constructor(config?: SchedulerConfig) {
    super({ who: 'EulerAncestral', defaults: EULER_ANCESTRAL_DEFAULTS, config, predictions: ['epsilon', 'v_prediction'], zeroSnrOption: true });
    this.initNoiseSigma = this.trainingInitNoiseSigma();
  }

  setTimesteps(numInferenceSteps: number): void {
    assertStepCount(numInferenceSteps, 'EulerAncestral');
    const timesteps = floatTimesteps(this.spacing, numInferenceSteps, this.schedule.numTrainTimesteps, this.stepsOffset());
    this.sigmas = [...interpSigmas(timesteps, this.schedule), 0].map(f32);
    this.timesteps = timesteps;
    this.initNoiseSigma = eulerInitNoiseSigma(this.sigmas, this.spacing);
    this.resetStepIndex();
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options: StepOptions = {}): StepResult {
    const idx = this.beginStep(modelOutput, timestep, sample);
    const sigma = this.sigmas[idx]!;
    const sigmaTo = this.sigmas[idx + 1]!;
    const n = sample.length;
    const x0 = x0FromSigma(this.prediction, sigma, modelOutput, sample);
    const from2 = f32(sigma * sigma);
    const to2 = f32(sigmaTo * sigmaTo);
    const sigmaUp = sqrt32(f32(f32(to2 * f32(from2 - to2)) / from2));
    const sigmaDown = sqrt32(f32(to2 - f32(sigmaUp * sigmaUp)));
    const dt = f32(sigmaDown - sigma);
    const noise = drawNoise(options.generator, sample, 'EulerAncestral.step');
    const prev = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const derivative = f32(f32(sample[i]! - x0[i]!) / sigma);
      const p = f32(sample[i]! + f32(derivative * dt));
      prev[i] = p + f32(noise[i]! * sigmaUp);
    }
    this.stepIndex = idx + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }
}
