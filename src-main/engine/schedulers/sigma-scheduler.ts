// What diffusers repeats (as "Copied from" blocks) in every sigma-space scheduler: the resolved config and noise
// schedule, `set_begin_index`, `_init_step_index`, `scale_model_input` and `add_noise`. An algorithm file extends
// one of the two forms below and keeps only what is its own: `set_timesteps` and `step`.
// - EulerTypeScheduler (Euler, Euler ancestral, Heun, LMS): x = x0 + sigma * eps, the model input is divided by
//   sqrt(sigma^2 + 1), float32 timesteps are looked up exactly.
// - AlphaSigmaScheduler (DPM-Solver++, UniPC): x = alpha_t * x0 + sigma_t * eps, the model input is unscaled,
//   integer timesteps are looked up with the last index as fallback; keeps the multistep solver's model outputs.

import { cfgBool, cfgNumber, predictionTypeOf, resolveConfig, timestepSpacingOf, type PredictionType, type TimestepSpacing } from './config.js';
import { getNoiseSchedule, type NoiseSchedule } from './noise-schedule.js';
import { sqrt32 } from './numerics/float32.js';
import { alphaSigmaT, eulerInitNoiseSigma, exponentialSigmas, interpSigmas, karrasSigmas, sigmaRange, sigmaToT } from './sigmas.js';
import { floatTimesteps, indexForTimestep, indexForTimestepOrLast } from './timesteps.js';
import type { Scheduler, SchedulerConfig, SchedulerName, SetTimestepsOptions, StepOptions, StepResult } from './types.js';
import { addNoiseSigma, assertSameLength } from './vector-ops.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

export interface SigmaSchedulerSetup {
  /** The class's name in error messages ("Euler", "DPM-Solver", ...). */
  who: string;
  /** diffusers' `__init__` defaults of the class. */
  defaults: Readonly<SchedulerConfig>;
  /** The model's scheduler_config.json. */
  config: SchedulerConfig | undefined;
  /** The prediction types the class accepts. */
  predictions: readonly PredictionType[];
  /**
   * Whether the class has `rescale_betas_zero_snr` (it then sets `alphas_cumprod[-1] = 2**-24`). Heun and LMS do
   * not: diffusers' from_config drops the key, so they never rescale.
   */
  zeroSnrOption: boolean;
}

abstract class SigmaScheduler implements Scheduler {
  abstract readonly name: SchedulerName;
  abstract readonly order: number;
  readonly config: Readonly<SchedulerConfig>;
  timesteps: number[] = [];
  /** float32 sigmas, length timesteps.length + 1 (the final sigma included). */
  sigmas: number[] = [];
  initNoiseSigma = 1.0;

  protected readonly who: string;
  protected readonly schedule: NoiseSchedule;
  protected readonly prediction: PredictionType;
  protected readonly spacing: TimestepSpacing;
  /** diffusers' `_step_index`: null until the first scaleModelInput/step after setTimesteps. */
  protected stepIndex: number | null = null;
  private beginIndex: number | null = null;

  protected constructor(setup: SigmaSchedulerSetup) {
    this.who = setup.who;
    this.config = Object.freeze(resolveConfig(setup.defaults, setup.config));
    const c = this.config;
    this.schedule = setup.zeroSnrOption ? getNoiseSchedule(c, true) : getNoiseSchedule({ ...c, rescale_betas_zero_snr: false });
    this.prediction = predictionTypeOf(c, setup.predictions);
    this.spacing = timestepSpacingOf(c, 'linspace');
  }

  abstract setTimesteps(numInferenceSteps: number, options?: SetTimestepsOptions): void;
  abstract scaleModelInput(sample: Float32Array, timestep: number): Float32Array;
  abstract step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options?: StepOptions): StepResult;
  abstract addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array;

  setBeginIndex(beginIndex: number): void {
    this.beginIndex = beginIndex;
  }

  /** The index of `timestep` in `timesteps`, the way this form of scheduler looks it up. */
  protected abstract indexOfTimestep(timestep: number): number;

  /** diffusers' `_init_step_index` on first use: the begin index (img2img) or the timestep's place. */
  protected currentStepIndex(timestep: number): number {
    if (this.stepIndex === null) this.stepIndex = this.beginIndex ?? this.indexOfTimestep(timestep);
    return this.stepIndex;
  }

  /** The checks at the start of every `step`; returns the step index. */
  protected beginStep(modelOutput: Float32Array, timestep: number, sample: Float32Array): number {
    assertSameLength(modelOutput, sample, `${this.who}.step`);
    if (this.sigmas.length === 0) throw new Error(`${this.who}: run 'setTimesteps' before 'step'`);
    const idx = this.currentStepIndex(timestep);
    if (idx >= this.timesteps.length) throw new Error(`${this.who}: step called past the end of the schedule`);
    return idx;
  }

  /** set_timesteps starts a new run: no step taken, no begin index. */
  protected resetStepIndex(): void {
    this.stepIndex = null;
    this.beginIndex = null;
  }

  /** `steps_offset` of the config (leading spacing). */
  protected stepsOffset(): number {
    return cfgNumber(this.config, 'steps_offset', 0);
  }

  /** The sigma that `addNoise` noises to. */
  protected noiseSigmaAt(stepIndex: number): number {
    const sigma = this.sigmas[stepIndex];
    if (sigma === undefined) throw new Error(`${this.who}.addNoise: step index ${stepIndex} out of range`);
    return sigma;
  }
}

/** Euler, Euler ancestral, Heun, LMS: k-diffusion's x = x0 + sigma * eps. */
export abstract class EulerTypeScheduler extends SigmaScheduler {
  protected override indexOfTimestep(timestep: number): number {
    return indexForTimestep(this.timesteps, f32(timestep));
  }

  /** `sample / sqrt(sigma^2 + 1)` at the current step. */
  override scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    const sigma = this.sigmas[this.currentStepIndex(timestep)]!;
    const denom = sqrt32(f32(f32(sigma * sigma) + 1));
    const out = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) out[i] = sample[i]! / denom;
    return out;
  }

  override addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    return addNoiseSigma(original, noise, this.noiseSigmaAt(stepIndex));
  }

  /** init_noise_sigma before set_timesteps, when diffusers holds the full training schedule (Euler, Euler ancestral). */
  protected trainingInitNoiseSigma(): number {
    const full = Array.from(this.schedule.sigmaTable).reverse();
    full.push(0);
    return eulerInitNoiseSigma(full, this.spacing);
  }

  /**
   * The sigma schedule of set_timesteps before the final sigma: the spacing's float32 timesteps and their sigmas
   * (float64, interpolated from the training table); with use_karras_sigmas / use_exponential_sigmas, that spacing
   * of sigmas between sigma_min and sigma_max and their timesteps from `_sigma_to_t`. The range is the one the
   * timestep spacing selects, or the config's `sigma_min` / `sigma_max` where set if `rangeFromConfig` (Euler).
   */
  protected spacedSigmas(numInferenceSteps: number, rangeFromConfig: boolean): { timesteps: number[]; sigmas: number[] } {
    const c = this.config;
    const timesteps = floatTimesteps(this.spacing, numInferenceSteps, this.schedule.numTrainTimesteps, this.stepsOffset());
    const sigmas = interpSigmas(timesteps, this.schedule);
    const spacedMin = sigmas[sigmas.length - 1]!;
    const spacedMax = sigmas[0]!;
    const [sigmaMin, sigmaMax] = rangeFromConfig ? sigmaRange(c, spacedMin, spacedMax) : [spacedMin, spacedMax];
    let spaced: number[];
    if (cfgBool(c, 'use_karras_sigmas', false)) spaced = karrasSigmas(sigmaMin, sigmaMax, numInferenceSteps);
    else if (cfgBool(c, 'use_exponential_sigmas', false)) spaced = exponentialSigmas(sigmaMin, sigmaMax, numInferenceSteps);
    else return { timesteps, sigmas };
    return { timesteps: spaced.map((s) => sigmaToT(s, this.schedule.logSigmaTable)), sigmas: spaced };
  }
}

/** DPM-Solver++ and UniPC: x = alpha_t * x0 + sigma_t * eps, with a window of `solver_order` model outputs. */
export abstract class AlphaSigmaScheduler extends SigmaScheduler {
  /** `solver_order` (1, 2 or 3). */
  protected readonly solverOrder: number;
  /** Converted model outputs, oldest first, length solver_order (null before warm-up). */
  protected modelOutputs: Array<Float32Array | null>;
  /** Steps taken so far, up to solver_order: the order the multistep update may use. */
  protected lowerOrderNums = 0;

  protected constructor(setup: SigmaSchedulerSetup) {
    super(setup);
    this.solverOrder = cfgNumber(this.config, 'solver_order', 2);
    if (![1, 2, 3].includes(this.solverOrder)) throw new Error(`${this.who}: solver_order ${this.solverOrder} is not supported (1, 2 or 3)`);
    this.modelOutputs = new Array<Float32Array | null>(this.solverOrder).fill(null);
  }

  protected override indexOfTimestep(timestep: number): number {
    return indexForTimestepOrLast(this.timesteps, timestep);
  }

  /** The model input is not scaled. */
  override scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  /** `alpha_t * x0 + sigma_t * noise` at `sigmas[stepIndex]`. */
  override addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    assertSameLength(original, noise, `${this.who}.addNoise`);
    const [alphaT, sigmaT] = alphaSigmaT(this.noiseSigmaAt(stepIndex));
    const out = new Float32Array(original.length);
    for (let i = 0; i < original.length; i++) out[i] = f32(alphaT * original[i]!) + f32(sigmaT * noise[i]!);
    return out;
  }

  /** Shift the window of model outputs and append the newest. */
  protected pushModelOutput(converted: Float32Array): void {
    for (let i = 0; i < this.solverOrder - 1; i++) this.modelOutputs[i] = this.modelOutputs[i + 1]!;
    this.modelOutputs[this.solverOrder - 1] = converted;
  }

  /** set_timesteps: an empty window, first order again, no step index. */
  protected resetSolver(): void {
    this.modelOutputs = new Array<Float32Array | null>(this.solverOrder).fill(null);
    this.lowerOrderNums = 0;
    this.resetStepIndex();
  }
}
