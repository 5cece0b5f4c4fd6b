// UniPCMultistepScheduler (diffusers v0.40.0 scheduling_unipc_multistep.py), float32 op for op.
//
// UniPC: a multistep predictor (UniP) and, from the second step on, a corrector (UniC) that first refines the
// incoming sample with the new model output. Default and tested: solver_type bh2, solver_order 2, predict_x0.
// Also supports bh1, predict_x0 false, solver_order 1 and 3, prediction_type epsilon/v_prediction/sample,
// timestep_spacing leading/trailing/linspace (DPM-style rules), use_karras_sigmas / use_exponential_sigmas
// (full training range, or config sigma_min/sigma_max), final_sigmas_type zero/sigma_min, lower_order_final,
// disable_corrector, rescale_betas_zero_snr. The corrector's 2x2 (order 2) / 3x3 (order 3) systems and the
// order-3 predictor's sliced 2x2 one are solved exactly as torch's float32 `linalg.solve` does, and exp/log/expm1
// are torch's SLEEF versions, so runs match diffusers bit for bit. A last step to sigma = 0 is computed as its
// limit (x0_pred): diffusers gives that for bh2 + predict_x0, and NaN for bh1 or predict_x0 = false.
// Not supported (rejected): solver_p, thresholding, flow sigmas, dynamic shifting, beta sigmas.

import { assertOneSigmaSpacing, assertStepCount, cfgBool, cfgString, finalSigmasTypeOf, isOff, rejectUnsupported } from './config.js';
import { fmaf32 } from './numerics/float32.js';
import { roundHalfEven } from './numerics/numpy.js';
import { expm1F32 } from './numerics/sleef.js';
import { solve2x2F32, solve2x2F32Strided, solveF32 } from './numerics/torch-linalg.js';
import { x0FromAlphaSigma } from './predicted-x0.js';
import { AlphaSigmaScheduler } from './sigma-scheduler.js';
import { alphaSigmaT, fullRangeSigmas, interpSigmas, lambdaOf } from './sigmas.js';
import { dpmTimesteps } from './timesteps.js';
import type { SchedulerConfig, StepOptions, StepResult } from './types.js';

/** Math.fround, bound locally: hot loops must not go through a (transpiled) module-binding getter. */
const f32 = Math.fround;
/** float32 fused multiply-add, bound locally for the same reason. */
const fma = fmaf32;

/** diffusers UniPCMultistepScheduler.__init__ defaults. */
export const UNIPC_DEFAULTS: Readonly<SchedulerConfig> = Object.freeze({
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
  predict_x0: true,
  solver_type: 'bh2',
  lower_order_final: true,
  disable_corrector: [],
  solver_p: null,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  use_flow_sigmas: false,
  flow_shift: 1.0,
  timestep_spacing: 'linspace',
  steps_offset: 0,
  final_sigmas_type: 'zero',
  rescale_betas_zero_snr: false,
  use_dynamic_shifting: false,
  time_shift_type: 'exponential',
  sigma_min: null,
  sigma_max: null,
  shift_terminal: null,
});

/** Scalars of one UniP/UniC update (all float32). */
interface UniCoefficients {
  alphaT: number;
  sigmaT: number;
  sigmaS0: number;
  alphaS0: number;
  hPhi1: number;
  bH: number;
  /** rk of each older output (i = 1..order-1). */
  rks: number[];
  /** b vector, length order. */
  b: number[];
}

export class UniPCMultistepScheduler extends AlphaSigmaScheduler {
  readonly name = 'unipc' as const;
  readonly order = 1;

  private readonly predictX0: boolean;
  private readonly bh2: boolean;
  private readonly disableCorrector: ReadonlySet<number>;
  private thisOrder = 0;
  private lastSample: Float32Array | null = null;

  constructor(config?: SchedulerConfig) {
    super({ who: 'UniPC', defaults: UNIPC_DEFAULTS, config, predictions: ['epsilon', 'v_prediction', 'sample'], zeroSnrOption: true });
    const c = this.config;
    assertOneSigmaSpacing(c);
    let solverType = cfgString(c, 'solver_type', 'bh2');
    if (solverType === 'midpoint' || solverType === 'heun' || solverType === 'logrho') solverType = 'bh2';
    if (solverType !== 'bh1' && solverType !== 'bh2') throw new Error(`UniPC: solver_type ${solverType} is not implemented`);
    this.bh2 = solverType === 'bh2';
    this.predictX0 = cfgBool(c, 'predict_x0', true);
    rejectUnsupported(c, 'UniPC', [
      ['thresholding', isOff],
      ['solver_p', isOff],
      ['use_beta_sigmas', isOff],
      ['use_flow_sigmas', isOff],
      ['use_dynamic_shifting', isOff],
      ['shift_terminal', isOff],
    ]);
    finalSigmasTypeOf(c);
    const dc = c['disable_corrector'];
    this.disableCorrector = new Set(Array.isArray(dc) ? dc.filter((v): v is number => typeof v === 'number') : []);
  }

  setTimesteps(numInferenceSteps: number): void {
    assertStepCount(numInferenceSteps, 'UniPC');
    const c = this.config;
    const T = this.schedule.numTrainTimesteps;
    let timesteps = dpmTimesteps(this.spacing, numInferenceSteps, T, this.stepsOffset());
    const finalType = finalSigmasTypeOf(c);
    let sigmas: number[];
    let sigmaLast: number;
    const karras = cfgBool(c, 'use_karras_sigmas', false);
    if (karras || cfgBool(c, 'use_exponential_sigmas', false)) {
      const r = fullRangeSigmas(karras ? 'karras' : 'exponential', this.schedule, numInferenceSteps, c);
      sigmas = r.sigmas;
      // Karras rounds (half-even); exponential keeps float64 that torch truncates to int64.
      timesteps = r.timesteps.map(karras ? roundHalfEven : Math.trunc);
      sigmaLast = finalType === 'sigma_min' ? sigmas[sigmas.length - 1]! : 0;
    } else {
      sigmas = interpSigmas(timesteps, this.schedule);
      sigmaLast = finalType === 'sigma_min' ? this.schedule.sigmaTable[0]! : 0;
    }
    this.sigmas = [...sigmas, sigmaLast].map(f32);
    this.timesteps = timesteps;
    this.resetSolver();
    this.thisOrder = 0;
    this.lastSample = null;
  }

  /** diffusers `convert_model_output`: x0 (predict_x0) or epsilon at sigmas[idx]. */
  private convertModelOutput(modelOutput: Float32Array, sample: Float32Array, idx: number): Float32Array {
    const [alphaT, sigmaT] = alphaSigmaT(this.sigmas[idx]!);
    if (this.predictX0) return x0FromAlphaSigma(this.prediction, alphaT, sigmaT, modelOutput, sample);
    // Noise prediction (predict_x0 = false): epsilon from each prediction type.
    const n = sample.length;
    const out = new Float32Array(n);
    const p = this.prediction;
    if (p === 'epsilon') out.set(modelOutput);
    else if (p === 'sample') for (let i = 0; i < n; i++) out[i] = f32(sample[i]! - f32(alphaT * modelOutput[i]!)) / sigmaT;
    else for (let i = 0; i < n; i++) out[i] = f32(alphaT * modelOutput[i]!) + f32(sigmaT * sample[i]!);
    return out;
  }

  /**
   * The scalars shared by UniP and UniC: target sigma index `tIdx`, source `s0Idx`, older sources
   * `s0Idx - i` for i = 1..order-1 (UniP) — UniC passes its indices shifted by one.
   */
  private coefficients(tIdx: number, s0Idx: number, order: number): UniCoefficients {
    const [alphaT, sigmaT] = alphaSigmaT(this.sigmas[tIdx]!);
    const [alphaS0, sigmaS0] = alphaSigmaT(this.sigmas[s0Idx]!);
    const lambdaT = lambdaOf(alphaT, sigmaT);
    const lambdaS0 = lambdaOf(alphaS0, sigmaS0);
    const h = f32(lambdaT - lambdaS0);
    const rks: number[] = [];
    for (let i = 1; i < order; i++) {
      const [alphaSi, sigmaSi] = alphaSigmaT(this.sigmas[s0Idx - i]!);
      rks.push(f32(f32(lambdaOf(alphaSi, sigmaSi) - lambdaS0) / h));
    }
    const hh = this.predictX0 ? -h : h;
    const hPhi1 = expm1F32(hh);
    let hPhiK = f32(f32(hPhi1 / hh) - 1);
    let factorial = 1;
    const bH = this.bh2 ? expm1F32(hh) : hh;
    const b: number[] = [];
    for (let i = 1; i <= order; i++) {
      b.push(f32(f32(hPhiK * factorial) / bH));
      factorial *= i + 1;
      hPhiK = f32(f32(hPhiK / hh) - f32(1 / factorial));
    }
    return { alphaT, sigmaT, sigmaS0, alphaS0, hPhi1, bH, rks, b };
  }

  /** The factors of `x_t = a * x - bm * m0 - cr * (residual)` shared by UniP and UniC. */
  private updateFactors(k: UniCoefficients): [a: number, bm: number, cr: number] {
    if (this.predictX0) return [f32(k.sigmaT / k.sigmaS0), f32(k.alphaT * k.hPhi1), f32(k.alphaT * k.bH)];
    return [f32(k.alphaT / k.alphaS0), f32(k.sigmaT * k.hPhi1), f32(k.sigmaT * k.bH)];
  }

  /** R = [rks^0; rks^1; ...] (rks with the trailing 1), as torch.stack(torch.pow(rks, i - 1)). */
  private static rMatrix(rks: number[], order: number): number[][] {
    const full = [...rks, 1];
    const R: number[][] = [];
    for (let i = 0; i < order; i++) R.push(full.map((r) => (i === 0 ? 1 : i === 1 ? r : f32(r * r))));
    return R;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _options: StepOptions = {}): StepResult {
    const idx = this.beginStep(modelOutput, timestep, sample);
    const N = this.timesteps.length;

    const useCorrector = idx > 0 && !this.disableCorrector.has(idx - 1) && this.lastSample !== null;
    const converted = this.convertModelOutput(modelOutput, sample, idx);
    let x = sample;
    if (useCorrector) x = this.corrector(converted, this.lastSample!, sample, idx, this.thisOrder);

    this.pushModelOutput(converted);

    let thisOrder = cfgBool(this.config, 'lower_order_final', true) ? Math.min(this.solverOrder, N - idx) : this.solverOrder;
    thisOrder = Math.min(thisOrder, this.lowerOrderNums + 1);
    this.thisOrder = thisOrder;
    // diffusers keeps a reference to the (corrected) sample; the corrector output is ours, the caller's is copied.
    this.lastSample = x === sample ? Float32Array.from(sample) : x;
    const prev = this.predictor(x, idx, thisOrder);
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.stepIndex = idx + 1;
    return { prevSample: prev, predOriginalSample: this.predictX0 ? converted : undefined };
  }

  /** The older converted outputs m_1.. (newest first) for D1s[k] = (m_{k+1} - m0) / rk. */
  private olderOutputs(count: number): Float32Array[] {
    const out: Float32Array[] = [];
    for (let k = 0; k < count; k++) out.push(this.modelOutputs[this.solverOrder - 2 - k]!);
    return out;
  }

  /** diffusers `multistep_uni_p_bh_update` (no solver_p). */
  private predictor(x: Float32Array, idx: number, order: number): Float32Array {
    const n = x.length;
    const m0 = this.modelOutputs[this.solverOrder - 1]!;
    const out = new Float32Array(n);
    if (this.sigmas[idx + 1] === 0) {
      // Step to sigma = 0: alpha_t = 1, sigma_t = 0, lambda_t = +inf. The first-order update tends to the
      // x0 estimate: bh2 + predict_x0 gives exactly m0 in diffusers too (0 * x - (1 * expm1(-inf)) * m0).
      // diffusers produces NaN for bh1 (B_h = -inf times a zero residual) and for predict_x0 = false
      // (0 * expm1(+inf)); we return the limit x0 instead. A higher-order update diverges as h -> inf (only
      // reachable with lower_order_final = false), so the x0 limit is used there as well.
      if (this.predictX0) out.set(m0);
      else {
        const [alphaS0, sigmaS0] = alphaSigmaT(this.sigmas[idx]!);
        for (let i = 0; i < n; i++) out[i] = f32(x[i]! - f32(sigmaS0 * m0[i]!)) / alphaS0;
      }
      return out;
    }
    const k = this.coefficients(idx + 1, idx, order);
    const older = this.olderOutputs(k.rks.length);
    const rks = k.rks;
    let rhos: number[] = [];
    if (older.length > 0) {
      if (order === 2) rhos = [0.5];
      else {
        // torch.linalg.solve(R[:-1, :-1], b[:-1]): a non-contiguous slice, solved without the transpose trick.
        const R = UniPCMultistepScheduler.rMatrix(k.rks, order);
        rhos = solve2x2F32Strided(R[0]![0]!, R[0]![1]!, R[1]![0]!, R[1]![1]!, k.b[0]!, k.b[1]!);
      }
    }
    const [a, bm, cr] = this.updateFactors(k);
    if (older.length === 0) {
      for (let i = 0; i < n; i++) out[i] = f32(f32(a * x[i]!) - f32(bm * m0[i]!)) - f32(cr * 0);
      return out;
    }
    const m1 = older[0]!;
    const rk1 = rks[0]!;
    const rho1 = rhos[0]!;
    if (older.length === 1) {
      for (let i = 0; i < n; i++) {
        const mi = m0[i]!;
        const res = f32(rho1 * f32(f32(m1[i]! - mi) / rk1));
        out[i] = f32(f32(a * x[i]!) - f32(bm * mi)) - f32(cr * res);
      }
      return out;
    }
    for (let i = 0; i < n; i++) {
      const mi = m0[i]!;
      let res = f32(rho1 * f32(f32(m1[i]! - mi) / rk1));
      // torch.einsum('k,bkc...->bc...') with K = 2 accumulates with an FMA: fma(rho_1, D_1, rho_0 * D_0).
      for (let j = 1; j < older.length; j++) res = fma(rhos[j]!, f32(f32(older[j]![i]! - mi) / rks[j]!), res);
      out[i] = f32(f32(a * x[i]!) - f32(bm * mi)) - f32(cr * res);
    }
    return out;
  }

  /** diffusers `multistep_uni_c_bh_update`: corrects `thisSample` (the model input at sigmas[idx]). */
  private corrector(modelT: Float32Array, lastSample: Float32Array, thisSample: Float32Array, idx: number, order: number): Float32Array {
    const n = thisSample.length;
    // Before the shift, modelOutputs[-1] is the previous step's output (m0 of the corrector).
    const m0 = this.modelOutputs[this.solverOrder - 1]!;
    const k = this.coefficients(idx, idx - 1, order);
    const older = this.olderOutputs(k.rks.length);
    const rks = k.rks;
    let rhos: number[];
    if (order === 1) rhos = [0.5];
    else if (order === 2) {
      const R = UniPCMultistepScheduler.rMatrix(k.rks, 2);
      rhos = solve2x2F32(R[0]![0]!, R[0]![1]!, R[1]![0]!, R[1]![1]!, k.b[0]!, k.b[1]!);
    } else rhos = solveF32(UniPCMultistepScheduler.rMatrix(k.rks, order), k.b);
    const [a, bm, cr] = this.updateFactors(k);
    const rLast = rhos[rhos.length - 1]!;
    const out = new Float32Array(n);
    if (older.length === 0) {
      for (let i = 0; i < n; i++) {
        const mi = m0[i]!;
        const xt_ = f32(f32(a * lastSample[i]!) - f32(bm * mi));
        out[i] = xt_ - f32(cr * f32(rLast * f32(modelT[i]! - mi)));
      }
      return out;
    }
    const m1 = older[0]!;
    const rk1 = rks[0]!;
    const rho1 = rhos[0]!;
    for (let i = 0; i < n; i++) {
      const mi = m0[i]!;
      const xt_ = f32(f32(a * lastSample[i]!) - f32(bm * mi));
      let corr = f32(rho1 * f32(f32(m1[i]! - mi) / rk1));
      for (let j = 1; j < older.length; j++) corr = fma(rhos[j]!, f32(f32(older[j]![i]! - mi) / rks[j]!), corr);
      out[i] = xt_ - f32(cr * f32(corr + f32(rLast * f32(modelT[i]! - mi))));
    }
    return out;
  }
}
