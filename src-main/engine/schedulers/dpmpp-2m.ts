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

import { assertOneSigmaSpacing, assertStepCount, cfgBool, cfgNumber, cfgString, finalSigmasTypeOf, isOff, rejectUnsupported } from './config.js';
import { sqrt32 } from './numerics/float32.js';
import { npLinspace, roundHalfEven } from './numerics/numpy.js';
import { expF32, logF32 } from './numerics/sleef.js';
import { x0FromAlphaSigma } from './predicted-x0.js';
import { AlphaSigmaScheduler } from './sigma-scheduler.js';
import { alphaSigmaT, fullRangeSigmas, interpSigmas, lambdaOf, sigmaToT } from './sigmas.js';
import { dpmTimesteps } from './timesteps.js';
import type { SchedulerConfig, StepOptions, StepResult } from './types.js';

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

export class DPMSolverMultistepScheduler extends AlphaSigmaScheduler {
  readonly name = 'dpmpp-2m' as const;
  readonly order = 1;

  private readonly heunSolver: boolean;

  constructor(config?: SchedulerConfig) {
    super({ who: 'DPM-Solver', defaults: DPMPP_2M_DEFAULTS, config, predictions: ['epsilon', 'v_prediction', 'sample'], zeroSnrOption: true });
    const c = this.config;
    assertOneSigmaSpacing(c);
    let algorithm = cfgString(c, 'algorithm_type', 'dpmsolver++');
    if (algorithm === 'deis') algorithm = 'dpmsolver++'; // diffusers re-registers deis as dpmsolver++
    if (algorithm !== 'dpmsolver++') throw new Error(`DPM-Solver: algorithm_type ${algorithm} is not supported (only dpmsolver++)`);
    let solverType = cfgString(c, 'solver_type', 'midpoint');
    if (solverType === 'logrho' || solverType === 'bh1' || solverType === 'bh2') solverType = 'midpoint';
    if (solverType !== 'midpoint' && solverType !== 'heun') throw new Error(`DPM-Solver: solver_type ${solverType} is not implemented`);
    this.heunSolver = solverType === 'heun';
    rejectUnsupported(c, 'DPM-Solver', [
      ['thresholding', isOff],
      ['use_beta_sigmas', isOff],
      ['use_flow_sigmas', isOff],
      ['use_dynamic_shifting', isOff],
      ['variance_type', isOff],
    ]);
    finalSigmasTypeOf(c);
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
      const lam = f32(logF32(sqrt32(a)) - logF32(sqrt32(f32(1 - a))));
      if (lam < clip) count++;
      else break;
    }
    return T - count;
  }

  setTimesteps(numInferenceSteps: number): void {
    assertStepCount(numInferenceSteps, 'DPM-Solver');
    const c = this.config;
    const T = this.schedule.numTrainTimesteps;
    let timesteps = dpmTimesteps(this.spacing, numInferenceSteps, T, this.stepsOffset(), this.lastTimestep());
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
      const lambdas = luLambdas(logs[logs.length - 1]!, logs[0]!, numInferenceSteps);
      sigmas = lambdas.map(Math.exp);
      timesteps = sigmas.map((s) => sigmaToT(s, logs)).map((t) => (roundT ? roundHalfEven(t) : Math.trunc(t)));
    } else if (cfgBool(c, 'use_exponential_sigmas', false)) {
      const r = fullRangeSigmas('exponential', this.schedule, numInferenceSteps, {});
      sigmas = r.sigmas;
      timesteps = r.timesteps.map(Math.trunc); // float64 -> int64 truncates
    } else {
      sigmas = interpSigmas(timesteps, this.schedule);
    }
    const sigmaLast = finalSigmasTypeOf(c) === 'sigma_min' ? this.schedule.sigmaTable[0]! : 0;
    this.sigmas = [...sigmas, sigmaLast].map(f32);
    this.timesteps = timesteps;
    this.resetSolver();
  }

  /** diffusers `convert_model_output` (dpmsolver++): the model's x0 prediction at sigmas[stepIndex]. */
  private convertModelOutput(modelOutput: Float32Array, sample: Float32Array, idx: number): Float32Array {
    const [alphaT, sigmaT] = alphaSigmaT(this.sigmas[idx]!);
    return x0FromAlphaSigma(this.prediction, alphaT, sigmaT, modelOutput, sample);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _options: StepOptions = {}): StepResult {
    const idx = this.beginStep(modelOutput, timestep, sample);
    const N = this.timesteps.length;
    const c = this.config;
    const lof = cfgBool(c, 'lower_order_final', true);
    const lowerOrderFinal =
      idx === N - 1 && (cfgBool(c, 'euler_at_final', false) || (lof && N < 15) || cfgString(c, 'final_sigmas_type', 'zero') === 'zero');
    const lowerOrderSecond = idx === N - 2 && lof && N < 15;

    const x0 = this.convertModelOutput(modelOutput, sample, idx);
    this.pushModelOutput(x0);

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
}

/**
 * diffusers' `_convert_to_lu`: `(lambda_max + ramp * (lambda_min - lambda_max)) ** 1` over
 * `ramp = linspace(0, 1, n)` (float64; the "lambdas" are the float32 log-sigmas of the training range).
 */
function luLambdas(lambdaMax: number, lambdaMin: number, n: number): number[] {
  return npLinspace(0, 1, n).map((r) => lambdaMax + r * (lambdaMin - lambdaMax));
}
