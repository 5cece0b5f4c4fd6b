// EulerDiscreteScheduler (diffusers v0.40.0 scheduling_euler_discrete.py), float32 op for op.
// Supports interpolation_type "linear", use_karras_sigmas, use_exponential_sigmas, final_sigmas_type
// zero/sigma_min, timestep_type discrete/continuous. s_churn is 0 (the pipelines' default): no noise is drawn.

import { assertOneSigmaSpacing, cfgBool, cfgString, finalSigmasTypeOf, assertStepCount } from './config.js';
import { x0FromSigma } from './predicted-x0.js';
import { EulerTypeScheduler } from './sigma-scheduler.js';
import { eulerInitNoiseSigma } from './sigmas.js';
import type { SchedulerConfig, StepOptions, StepResult } from './types.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

/** diffusers EulerDiscreteScheduler.__init__ defaults. */
export const EULER_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  interpolation_type: 'linear',
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  sigma_min: null,
  sigma_max: null,
  timestep_spacing: 'linspace',
  timestep_type: 'discrete',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
  final_sigmas_type: 'zero',
});

export class EulerDiscreteScheduler extends EulerTypeScheduler {
  readonly name = 'euler' as const;
  readonly order = 1;

  constructor(config?: SchedulerConfig) {
    super({ who: 'Euler', defaults: EULER_DEFAULTS, config, predictions: ['epsilon', 'v_prediction', 'sample'], zeroSnrOption: true });
    const c = this.config;
    assertOneSigmaSpacing(c);
    if (cfgBool(c, 'use_beta_sigmas', false)) throw new Error('Euler: use_beta_sigmas is not supported');
    if (cfgString(c, 'interpolation_type', 'linear') !== 'linear') {
      throw new Error(`Euler: interpolation_type ${String(c['interpolation_type'])} is not supported (only "linear")`);
    }
    this.initNoiseSigma = this.trainingInitNoiseSigma();
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    assertStepCount(numInferenceSteps, 'Euler');
    const { timesteps, sigmas } = this.spacedSigmas(numInferenceSteps, true);
    const sigmaLast = finalSigmasTypeOf(c) === 'sigma_min' ? this.schedule.sigmaTable[0]! : 0;
    this.sigmas = [...sigmas, sigmaLast].map(f32);
    if (cfgString(c, 'timestep_type', 'discrete') === 'continuous' && this.prediction === 'v_prediction') {
      this.timesteps = this.sigmas.slice(0, -1).map((s) => f32(0.25 * f32(Math.log(s))));
    } else {
      this.timesteps = timesteps.map(f32);
    }
    this.initNoiseSigma = eulerInitNoiseSigma(this.sigmas, this.spacing);
    this.resetStepIndex();
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _options: StepOptions = {}): StepResult {
    const idx = this.beginStep(modelOutput, timestep, sample);
    const sigma = this.sigmas[idx]!;
    const sigmaNext = this.sigmas[idx + 1]!;
    const sigmaHat = sigma; // gamma = 0 (s_churn = 0)
    const n = sample.length;
    const x0 = x0FromSigma(this.prediction, sigmaHat, modelOutput, sample);
    const dt = f32(sigmaNext - sigmaHat);
    const prev = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const derivative = f32(f32(sample[i]! - x0[i]!) / sigmaHat);
      prev[i] = sample[i]! + f32(derivative * dt);
    }
    this.stepIndex = idx + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }
}
