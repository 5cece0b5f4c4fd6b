// DPMSolverMultistepScheduler (diffusers v0.40.0 scheduling_dpmsolver_multistep.py), float32 op for op.
//
// DPM-Solver++ (algorithm_type "dpmsolver++"), multistep, data prediction. The model output is converted to
// x0 and the update works in lambda = log(alpha_t / sigma_t). Supports solver_order 1/2/3, solver_type
// midpoint/heun, prediction_type epsilon/v_prediction/sample, timestep_spacing leading/trailing/linspace
// (DPM's own leading/linspace rules), use_karras_sigmas (full training range, timesteps rounded: duplicates
// possible, so the step index is a counter), use_exponential_sigmas, use_lu_lambdas, lower_order_final,
// euler_at_final, final_sigmas_type zero/sigma_min, lambda_min_clipped, rescale_betas_zero_snr.
// A last step to sigma = 0 is first order and gives x0_pred exactly (its limit; no inf/NaN is formed).
// Not supported (rejected): the SDE / deprecated algorithm types, thresholding, learned variance, flow sigmas.

import {
  assertSameLength,
  cfgBool,
  cfgNumber,
  cfgString,
  dpmTimesteps,
  getNoiseSchedule,
  interpSigmas,
  predictionTypeOf,
  resolveConfig,
  roundHalfEven,
  sigmaToT,
  timestepSpacingOf,
  type NoiseSchedule,
  type PredictionType,
  type TimestepSpacing,
} from './common.js';
import {
  alphaSigmaT,
  expF32,
  fullRangeSigmas,
  indexForTimestepOrLast,
  isOff,
  lambdaOf,
  logF32,
  npLinspaceLambdas,
  rejectUnsupported,
  sqrtF32,
} from './multistep-common.js';
import type { Scheduler, SchedulerConfig, StepOptions, StepResult } from './types.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;

/** diffusers DPMSolverMultistepScheduler.__init__ defaults. */
export const DPMPP_2M_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  solver_order: 2,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  sample_max_value: 1.0,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: true,
  euler_at_final: false,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  use_lu_lambdas: false,
  use_flow_sigmas: false,
  flow_shift: 1.0,
  final_sigmas_type: 'zero',
  lambda_min_clipped: -Infinity,
  variance_type: null,
  timestep_spacing: 'linspace',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
  use_dynamic_shifting: false,
  time_shift_type: 'exponential',
});

export class DPMSolverMultistepScheduler implements Scheduler {
  readonly name = 'dpmpp-2m' as const;
  readonly config: Readonly<SchedulerConfig>;
  readonly order = 1;
  timesteps: number[] = [];
  /** float32 sigmas, length timesteps.length + 1 (the final 0 or sigma_min included). */
  sigmas: number[] = [];
  initNoiseSigma = 1.0;

  private readonly schedule: NoiseSchedule;
  private readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private readonly solverOrder: number;
  private readonly heunSolver: boolean;
  private stepIndex: number | null = null;
  private beginIndex: number | null = null;
  private lowerOrderNums = 0;
  /** Converted model outputs (x0 predictions), oldest first, length solver_order (null before warm-up). */
  private modelOutputs: Array<Float32Array | null> = [];

  constructor(config?: SchedulerConfig) {
    this.config = Object.freeze(resolveConfig(DPMPP_2M_DEFAULTS, config));
    const c = this.config;
    const flags = [cfgBool(c, 'use_karras_sigmas', false), cfgBool(c, 'use_exponential_sigmas', false), cfgBool(c, 'use_beta_sigmas', false)];
    if (flags.filter(Boolean).length > 1) {
      throw new Error('Only one of `config.use_beta_sigmas`, `config.use_exponential_sigmas`, `config.use_karras_sigmas` can be used.');
    }
    let algorithm = cfgString(c, 'algorithm_type', 'dpmsolver++');
    if (algorithm === 'deis') algorithm = 'dpmsolver++'; // diffusers re-registers deis as dpmsolver++
    if (algorithm !== 'dpmsolver++') throw new Error(`DPM-Solver: algorithm_type ${algorithm} is not supported (only dpmsolver++)`);
    let solverType = cfgString(c, 'solver_type', 'midpoint');
    if (solverType === 'logrho' || solverType === 'bh1' || solverType === 'bh2') solverType = 'midpoint';
    if (solverType !== 'midpoint' && solverType !== 'heun') throw new Error(`DPM-Solver: solver_type ${solverType} is not implemented`);
    this.heunSolver = solverType === 'heun';
    this.solverOrder = cfgNumber(c, 'solver_order', 2);
    if (![1, 2, 3].includes(this.solverOrder)) throw new Error(`DPM-Solver: solver_order ${this.solverOrder} is not supported (1, 2 or 3)`);
    rejectUnsupported(c, 'DPM-Solver', [
      ['thresholding', isOff],
      ['use_beta_sigmas', isOff],
      ['use_flow_sigmas', isOff],
      ['use_dynamic_shifting', isOff],
      ['variance_type', isOff],
    ]);
    const finalType = cfgString(c, 'final_sigmas_type', 'zero');
    if (finalType !== 'zero' && finalType !== 'sigma_min') {
      throw new Error(`\`final_sigmas_type\` must be one of 'zero', or 'sigma_min', but got ${finalType}`);
    }
    this.schedule = getNoiseSchedule(c, true);
    this.prediction = predictionTypeOf(c, ['epsilon', 'v_prediction', 'sample']);
    this.spacing = timestepSpacingOf(c, 'linspace');
    this.modelOutputs = new Array(this.solverOrder).fill(null);
  }

  /** diffusers' `last_timestep` from `lambda_min_clipped` (searchsorted over the flipped float32 lambda table). */
  private lastTimestep(): number {
    const clip = cfgNumber(this.config, 'lambda_min_clipped', -Infinity);
    const T = this.schedule.numTrainTimesteps;
    if (clip === -Infinity) return T;
    const ac = this.schedule.alphasCumprod;
    // lambda_t = log(sqrt(ac)) - log(sqrt(1 - ac)); searchsorted(flip(lambda), clip) counts entries < clip.
    let count = 0;
    for (let t = ac.length - 1; t >= 0; t--) {
      const a = ac[t]!;
      const lam = f32(logF32(sqrtF32(a)) - logF32(sqrtF32(f32(1 - a))));
      if (lam < clip) count++;
      else break;
    }
    return T - count;
  }

  setTimesteps(numInferenceSteps: number): void {
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) throw new Error(`DPM-Solver: invalid numInferenceSteps ${numInferenceSteps}`);
    const c = this.config;
    const T = this.schedule.numTrainTimesteps;
    let timesteps = dpmTimesteps(this.spacing, numInferenceSteps, T, cfgNumber(c, 'steps_offset', 0), this.lastTimestep());
    let sigmas: number[];
    const roundT = cfgString(c, 'beta_schedule', 'linear') !== 'squaredcos_cap_v2';
    if (cfgBool(c, 'use_karras_sigmas', false)) {
      // The DPM class has no sigma_min/sigma_max config: always the full training range.
      const r = fullRangeSigmas('karras', this.schedule, numInferenceSteps, {});
      sigmas = r.sigmas;
      timesteps = r.timesteps.map((t) => (roundT ? roundHalfEven(t) : Math.trunc(t)));
    } else if (cfgBool(c, 'use_lu_lambdas', false)) {
      // diffusers' precedence: karras, then lu_lambdas, then exponential.
      const logs = this.schedule.logSigmaTable;
      const lambdas = npLinspaceLambdas(logs[logs.length - 1]!, logs[0]!, numInferenceSteps);
      sigmas = lambdas.map(Math.exp);
      timesteps = sigmas.map((s) => sigmaToT(s, logs)).map((t) => (roundT ? roundHalfEven(t) : Math.trunc(t)));
    } else if (cfgBool(c, 'use_exponential_sigmas', false)) {
      const r = fullRangeSigmas('exponential', this.schedule, numInferenceSteps, {});
      sigmas = r.sigmas;
      timesteps = r.timesteps.map(Math.trunc); // float64 -> int64 truncates
    } else {
      sigmas = interpSigmas(timesteps, this.schedule);
    }
    const sigmaLast = cfgString(c, 'final_sigmas_type', 'zero') === 'sigma_min' ? this.schedule.sigmaTable[0]! : 0;
    this.sigmas = [...sigmas, sigmaLast].map(f32);
    this.timesteps = timesteps;
    this.modelOutputs = new Array(this.solverOrder).fill(null);
    this.lowerOrderNums = 0;
    this.stepIndex = null;
    this.beginIndex = null;
  }

  setBeginIndex(beginIndex: number): void {
    this.beginIndex = beginIndex;
  }

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  /** diffusers `convert_model_output` (dpmsolver++): the model's x0 prediction at sigmas[stepIndex]. */
  private convertModelOutput(modelOutput: Float32Array, sample: Float32Array, idx: number): Float32Array {
    const n = sample.length;
    const x0 = new Float32Array(n);
    if (this.prediction === 'sample') {
      x0.set(modelOutput);
      return x0;
    }
    const [alphaT, sigmaT] = alphaSigmaT(this.sigmas[idx]!);
    if (this.prediction === 'epsilon') {
      for (let i = 0; i < n; i++) x0[i] = f32(sample[i]! - f32(sigmaT * modelOutput[i]!)) / alphaT;
    } else {
      for (let i = 0; i < n; i++) x0[i] = f32(alphaT * sample[i]!) - f32(sigmaT * modelOutput[i]!);
    }
    return x0;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _options: StepOptions = {}): StepResult {
    assertSameLength(modelOutput, sample, 'DPM-Solver.step');
    if (this.sigmas.length === 0) throw new Error("DPM-Solver: run 'setTimesteps' before 'step'");
    if (this.stepIndex === null) this.stepIndex = this.beginIndex ?? indexForTimestepOrLast(this.timesteps, timestep);
    const idx = this.stepIndex;
    const N = this.timesteps.length;
    if (idx >= N) throw new Error('DPM-Solver: step called past the end of the schedule');
    const c = this.config;
    const lof = cfgBool(c, 'lower_order_final', true);
    const lowerOrderFinal =
      idx === N - 1 && (cfgBool(c, 'euler_at_final', false) || (lof && N < 15) || cfgString(c, 'final_sigmas_type', 'zero') === 'zero');
    const lowerOrderSecond = idx === N - 2 && lof && N < 15;

    const x0 = this.convertModelOutput(modelOutput, sample, idx);
    for (let i = 0; i < this.solverOrder - 1; i++) this.modelOutputs[i] = this.modelOutputs[i + 1]!;
    this.modelOutputs[this.solverOrder - 1] = x0;

    let prev: Float32Array;
    if (this.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      prev = this.firstOrderUpdate(x0, sample, idx);
    } else if (this.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
      prev = this.secondOrderUpdate(sample, idx);
    } else {
      prev = this.thirdOrderUpdate(sample, idx);
    }
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.stepIndex = idx + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }

  /** `(sigma_t / sigma_s) * x - (alpha_t * (exp(-h) - 1)) * m0`; to sigma_t = 0 this is exactly m0. */
  private firstOrderUpdate(m0: Float32Array, sample: Float32Array, idx: number): Float32Array {
    const n = sample.length;
    const out = new Float32Array(n);
    const sigmaNext = this.sigmas[idx + 1]!;
    if (sigmaNext === 0) {
      // alpha_t = 1, sigma_t = 0: lambda_t = +inf, exp(-h) = 0, so x_t = 0 * x + 1 * m0.
      out.set(m0);
      return out;
    }
    const [alphaT, sigmaT] = alphaSigmaT(sigmaNext);
    const [alphaS, sigmaS] = alphaSigmaT(this.sigmas[idx]!);
    const h = f32(lambdaOf(alphaT, sigmaT) - lambdaOf(alphaS, sigmaS));
    const a = f32(sigmaT / sigmaS);
    const b = f32(alphaT * f32(expF32(-h) - 1));
    for (let i = 0; i < n; i++) out[i] = f32(a * sample[i]!) - f32(b * m0[i]!);
    return out;
  }

  private secondOrderUpdate(sample: Float32Array, idx: number): Float32Array {
    const n = sample.length;
    const m0 = this.modelOutputs[this.solverOrder - 1]!;
    const m1 = this.modelOutputs[this.solverOrder - 2]!;
    const [alphaT, sigmaT] = alphaSigmaT(this.sigmas[idx + 1]!);
    const [alphaS0, sigmaS0] = alphaSigmaT(this.sigmas[idx]!);
    const [alphaS1, sigmaS1] = alphaSigmaT(this.sigmas[idx - 1]!);
    const lambdaT = lambdaOf(alphaT, sigmaT);
    const lambdaS0 = lambdaOf(alphaS0, sigmaS0);
    const lambdaS1 = lambdaOf(alphaS1, sigmaS1);
    const h = f32(lambdaT - lambdaS0);
    const h0 = f32(lambdaS0 - lambdaS1);
    const r0 = f32(h0 / h);
    const invR0 = f32(1 / r0);
    const a = f32(sigmaT / sigmaS0);
    const em1 = f32(expF32(-h) - 1);
    const b = f32(alphaT * em1);
    const out = new Float32Array(n);
    if (!this.heunSolver) {
      const c = f32(0.5 * b);
      for (let i = 0; i < n; i++) {
        const d1 = f32(invR0 * f32(m0[i]! - m1[i]!));
        out[i] = f32(f32(a * sample[i]!) - f32(b * m0[i]!)) - f32(c * d1);
      }
    } else {
      const c = f32(alphaT * f32(f32(em1 / h) + 1));
      for (let i = 0; i < n; i++) {
        const d1 = f32(invR0 * f32(m0[i]! - m1[i]!));
        out[i] = f32(f32(a * sample[i]!) - f32(b * m0[i]!)) + f32(c * d1);
      }
    }
    return out;
  }

  private thirdOrderUpdate(sample: Float32Array, idx: number): Float32Array {
    const n = sample.length;
    const m0 = this.modelOutputs[2]!;
    const m1 = this.modelOutputs[1]!;
    const m2 = this.modelOutputs[0]!;
    const [alphaT, sigmaT] = alphaSigmaT(this.sigmas[idx + 1]!);
    const [alphaS0, sigmaS0] = alphaSigmaT(this.sigmas[idx]!);
    const [alphaS1, sigmaS1] = alphaSigmaT(this.sigmas[idx - 1]!);
    const [alphaS2, sigmaS2] = alphaSigmaT(this.sigmas[idx - 2]!);
    const lambdaT = lambdaOf(alphaT, sigmaT);
    const lambdaS0 = lambdaOf(alphaS0, sigmaS0);
    const lambdaS1 = lambdaOf(alphaS1, sigmaS1);
    const lambdaS2 = lambdaOf(alphaS2, sigmaS2);
    const h = f32(lambdaT - lambdaS0);
    const h0 = f32(lambdaS0 - lambdaS1);
    const h1 = f32(lambdaS1 - lambdaS2);
    const r0 = f32(h0 / h);
    const r1 = f32(h1 / h);
    const invR0 = f32(1 / r0);
    const invR1 = f32(1 / r1);
    const r01 = f32(r0 + r1);
    const kD1 = f32(r0 / r01);
    const kD2 = f32(1 / r01);
    const a = f32(sigmaT / sigmaS0);
    const em1 = f32(expF32(-h) - 1);
    const b = f32(alphaT * em1);
    const c = f32(alphaT * f32(f32(em1 / h) + 1));
    // ((exp(-h) - 1.0 + h) / h**2 - 0.5)
    const d = f32(alphaT * f32(f32(f32(em1 + h) / f32(h * h)) - 0.5));
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const d10 = f32(invR0 * f32(m0[i]! - m1[i]!));
      const d11 = f32(invR1 * f32(m1[i]! - m2[i]!));
      const diff = f32(d10 - d11);
      const D1 = f32(d10 + f32(kD1 * diff));
      const D2 = f32(kD2 * diff);
      out[i] = f32(f32(f32(a * sample[i]!) - f32(b * m0[i]!)) + f32(c * D1)) - f32(d * D2);
    }
    return out;
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    assertSameLength(original, noise, 'DPM-Solver.addNoise');
    const sigma = this.sigmas[stepIndex];
    if (sigma === undefined) throw new Error(`DPM-Solver.addNoise: step index ${stepIndex} out of range`);
    const [alphaT, sigmaT] = alphaSigmaT(sigma);
    const out = new Float32Array(original.length);
    for (let i = 0; i < original.length; i++) out[i] = f32(alphaT * original[i]!) + f32(sigmaT * noise[i]!);
    return out;
  }
}
