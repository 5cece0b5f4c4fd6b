// What DDPM, DDIM, PNDM and LCM share: they work on alphas_cumprod by integer timestep, do not scale the model
// input, noise with `sqrt(ac) * x0 + sqrt(1 - ac) * noise`, and read the same clip / thresholding /
// set_alpha_to_one keys. An algorithm file extends AlphaCumprodScheduler and keeps `set_timesteps` and `step`.

import { cfgBool, predictionTypeOf, resolveConfig, type PredictionType } from './config.js';
import { getNoiseSchedule, type NoiseSchedule } from './noise-schedule.js';
import type { Scheduler, SchedulerConfig, SchedulerName, SetTimestepsOptions, StepOptions, StepResult } from './types.js';
import { addNoiseAlphaCumprod } from './vector-ops.js';

export interface AlphaCumprodSetup {
  /** The class's name in error messages ("DDIM", ...). */
  who: string;
  /** diffusers' `__init__` defaults of the class. */
  defaults: Readonly<SchedulerConfig>;
  /** The model's scheduler_config.json. */
  config: SchedulerConfig | undefined;
  /** The prediction types the class accepts. */
  predictions: readonly PredictionType[];
  /** Whether the class has `rescale_betas_zero_snr` (PNDM does not: it never rescales). */
  zeroSnrOption: boolean;
  /** Whether the class has `thresholding` (then rejected when on: dynamic thresholding is not ported). */
  thresholdingOption: boolean;
}

export abstract class AlphaCumprodScheduler implements Scheduler {
  abstract readonly name: SchedulerName;
  readonly order = 1;
  readonly config: Readonly<SchedulerConfig>;
  timesteps: number[] = [];
  initNoiseSigma = 1.0;

  protected readonly who: string;
  protected readonly schedule: NoiseSchedule;
  protected readonly prediction: PredictionType;
  /** null until setTimesteps. */
  protected numInferenceSteps: number | null = null;

  protected constructor(setup: AlphaCumprodSetup) {
    this.who = setup.who;
    this.config = Object.freeze(resolveConfig(setup.defaults, setup.config));
    if (setup.thresholdingOption && cfgBool(this.config, 'thresholding', false)) throw new Error(`${this.who}: thresholding is not supported`);
    this.schedule = getNoiseSchedule(setup.zeroSnrOption ? this.config : { ...this.config, rescale_betas_zero_snr: false });
    this.prediction = predictionTypeOf(this.config, setup.predictions);
  }

  abstract setTimesteps(numInferenceSteps: number, options?: SetTimestepsOptions): void;
  abstract step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options?: StepOptions): StepResult;

  /** These schedulers find their place by timestep value (or their own counter): the begin index is not needed. */
  setBeginIndex(_beginIndex: number): void {}

  /** The model input is not scaled. */
  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  /** `sqrt(ac) * x0 + sqrt(1 - ac) * noise` at the timestep `timesteps[stepIndex]`. */
  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    const t = this.timesteps[stepIndex];
    if (t === undefined) throw new Error(`${this.who}.addNoise: step index ${stepIndex} out of range`);
    return addNoiseAlphaCumprod(original, noise, this.schedule.alphasCumprod[t]!);
  }

  /** The alphas_cumprod after the last step: 1 with `set_alpha_to_one`, else alphas_cumprod[0]. */
  protected readFinalAlphaCumprod(setAlphaToOneByDefault: boolean): number {
    return cfgBool(this.config, 'set_alpha_to_one', setAlphaToOneByDefault) ? 1.0 : this.schedule.alphasCumprod[0]!;
  }

  /** The run's step count; throws before setTimesteps. */
  protected stepCount(): number {
    if (this.numInferenceSteps === null) throw new Error(`${this.who}: run 'setTimesteps' before 'step'`);
    return this.numInferenceSteps;
  }
}
