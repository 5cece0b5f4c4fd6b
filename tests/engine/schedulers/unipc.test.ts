// UniPCMultistepScheduler (bh2, order 2, predict_x0) port: diffusers v0.40.0 golden lines (shared sample + fixtures,
// img2img included), extra diffusers runs generated for this test (embedded below), invariants, the corrector's
// float32 2x2 solve and torch's SLEEF expm1 reproduced bit for bit.
import { describe, expect, it } from 'vitest';
import { SD15_SCHEDULER_CONFIG } from '../../../src-main/engine/schedulers/common.js';
import { createScheduler, img2imgTimesteps } from '../../../src-main/engine/schedulers/index.js';
import { expm1F32, solve2x2F32, solve2x2F32Strided, solveF32 } from '../../../src-main/engine/schedulers/multistep-common.js';
import type { Scheduler, SchedulerName } from '../../../src-main/engine/schedulers/types.js';
import {
  diff,
  loadReferenceLines,
  loadTables,
  maxAbs,
  runImg2Img,
  runLine,
  sums,
  syntheticModel,
  type ReferenceLine,
} from './golden-harness.js';

const NAME: SchedulerName = 'unipc';
const DIFFUSERS_CLASS = 'UniPCMultistepScheduler';

// ---- shared test kit (same in heun/lms/dpmpp-2m/unipc tests) ----
const fround = Math.fround;

interface ExtraCase {
  overrides: Record<string, unknown>;
  n: number;
  timesteps: number[] | null;
  numCalls: number;
  sigmas: number[] | null;
  initNoiseSigma: number;
  final8?: number[];
  sum?: number;
  sumSq?: number;
  preFinalX4?: number[] | null;
  diffusersFinalIsNaN?: boolean;
  img2img?: { beginIndex: number; first8: number[]; sum: number };
}

function caseTitle(c: ExtraCase): string {
  return `${JSON.stringify(c.overrides)} N=${c.n}`;
}

function make(overrides: Record<string, unknown> = {}): Scheduler {
  return createScheduler(NAME, { ...SD15_SCHEDULER_CONFIG, ...overrides });
}

/** The reference procedure (diffusers_scheduler_reference.md) with the synthetic model; every prev_sample kept. */
function runSynthetic(s: Scheduler, n: number): { xs: Float32Array[]; preds: (Float32Array | undefined)[]; final: Float32Array } {
  s.setTimesteps(n);
  const ins = fround(s.initNoiseSigma);
  let x: Float32Array = Float32Array.from(loadTables().latent_noise_seed1234_float32, (v) => v * ins);
  const xs: Float32Array[] = [];
  const preds: (Float32Array | undefined)[] = [];
  for (const t of s.timesteps) {
    const xIn = s.scaleModelInput(x, t);
    const r = s.step(syntheticModel(xIn, t), t, x);
    x = r.prevSample;
    xs.push(x);
    preds.push(r.predOriginalSample);
  }
  return { xs, preds, final: x };
}

function relErr(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
}

/** max |a - b| / max(1, max|ref|) over the reference prefix. */
function scaledErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  return diff(actual, expected) / Math.max(1, maxAbs(expected));
}

const TOL = 1e-6; // 10x tighter than the reference's 1e-5; the port is bit-exact on every line below

function checkExtraCase(c: ExtraCase): void {
  const s = make(c.overrides);
  const r = runSynthetic(s, c.n);
  expect(s.timesteps.length).toBe(c.numCalls);
  if (c.timesteps) expect(s.timesteps.map(fround)).toEqual(c.timesteps.map(fround));
  if (c.sigmas) {
    expect(s.sigmas!.length).toBe(c.sigmas.length);
    c.sigmas.forEach((v, i) => expect(relErr(s.sigmas![i]!, v)).toBeLessThanOrEqual(TOL));
  }
  expect(relErr(s.initNoiseSigma, c.initNoiseSigma)).toBeLessThanOrEqual(TOL);
  expect(r.final.every(Number.isFinite)).toBe(true);
  if (c.final8) {
    expect(scaledErr(r.final, c.final8)).toBeLessThanOrEqual(TOL);
    const { sum, sumSq } = sums(r.final);
    expect(Math.abs(sum - c.sum!) / Math.max(1, Math.abs(c.sum!))).toBeLessThanOrEqual(TOL);
    expect(relErr(sumSq, c.sumSq!)).toBeLessThanOrEqual(TOL);
  }
  if (c.preFinalX4) expect(scaledErr(r.xs[r.xs.length - 2]!, c.preFinalX4)).toBeLessThanOrEqual(TOL);
  if (c.img2img) {
    const s2 = make(c.overrides);
    const { beginIndex } = img2imgTimesteps(s2, c.n, 0.6);
    expect(beginIndex).toBe(c.img2img.beginIndex);
    const noise = Float32Array.from(loadTables().img2img_noise_seed99_float32);
    const noisy = s2.addNoise(new Float32Array(noise.length).fill(0.5), noise, beginIndex);
    expect(scaledErr(noisy, c.img2img.first8)).toBeLessThanOrEqual(TOL);
    expect(Math.abs(sums(noisy).sum - c.img2img.sum) / Math.max(1, Math.abs(c.img2img.sum))).toBeLessThanOrEqual(TOL);
  }
}

/** Golden lines of this scheduler: the shared sample and helper 1's generated fixtures. */
function goldenLines(): { source: string; line: ReferenceLine }[] {
  return loadReferenceLines().filter(({ line }) => line.scheduler === DIFFUSERS_CLASS);
}

function checkGolden(line: ReferenceLine): void {
  const r = runLine(line);
  expect(r.timesteps.map(fround)).toEqual(line.timesteps.map(fround));
  expect(r.timesteps.length).toBe(line.num_model_calls);
  line.sigmas!.forEach((v, i) => expect(relErr(r.sigmas![i]!, v)).toBeLessThanOrEqual(TOL));
  expect(relErr(r.initNoiseSigma, line.init_noise_sigma)).toBeLessThanOrEqual(TOL);
  expect(scaledErr(r.xInit, line.x_init_first4)).toBeLessThanOrEqual(TOL);
  line.steps.forEach((st, i) => {
    expect(fround(r.steps[i]!.t)).toBe(fround(st.t));
    expect(scaledErr(r.steps[i]!.xIn, st.x_in_first4), `step ${i} x_in`).toBeLessThanOrEqual(TOL);
    expect(scaledErr(r.steps[i]!.x, st.x_first4), `step ${i} x`).toBeLessThanOrEqual(TOL);
  });
  expect(scaledErr(r.final, line.final.first16)).toBeLessThanOrEqual(TOL);
  const { sum, sumSq } = sums(r.final);
  expect(Math.abs(sum - line.final.sum) / Math.max(1, Math.abs(line.final.sum))).toBeLessThanOrEqual(TOL);
  expect(relErr(sumSq, line.final.sum_sq)).toBeLessThanOrEqual(TOL);
  expect(r.final.every(Number.isFinite)).toBe(true);
  if (line.img2img && line.img2img.ok !== false) {
    const ref = line.img2img;
    const i2i = runImg2Img(line, ref.strength);
    expect(i2i.beginIndex).toBe(ref.slice_start_index);
    expect(i2i.timesteps.map(fround)).toEqual(ref.timesteps_kept.map(fround));
    expect(fround(i2i.timesteps[0]!)).toBe(fround(ref.latent_timestep));
    for (const rec of [ref.add_noise, ref.add_noise_without_begin_index]) {
      expect(scaledErr(i2i.noisy, rec.first8)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(sums(i2i.noisy).sum - rec.sum) / Math.max(1, Math.abs(rec.sum))).toBeLessThanOrEqual(TOL);
    }
  }
}

/** The 20-step leading line of the shared sample must be reproduced bit for bit (first 4 of every step). */
function checkBitExact(line: ReferenceLine): void {
  const r = runLine(line);
  expect(r.sigmas!.map(fround)).toEqual(line.sigmas!.map(fround));
  expect(fround(r.initNoiseSigma)).toBe(fround(line.init_noise_sigma));
  line.steps.forEach((st, i) => {
    expect(Array.from(r.steps[i]!.xIn.subarray(0, 4))).toEqual(st.x_in_first4);
    expect(Array.from(r.steps[i]!.x.subarray(0, 4))).toEqual(st.x_first4);
  });
  expect(Array.from(r.final.subarray(0, 16))).toEqual(line.final.first16);
  if (line.img2img) expect(Array.from(runImg2Img(line, line.img2img.strength).noisy.subarray(0, 8))).toEqual(line.img2img.add_noise.first8);
}

const SPACINGS = ['leading', 'trailing', 'linspace'] as const;
const STEP_COUNTS = [1, 2, 3, 4, 7, 20, 50, 100];

function monotoneNonIncreasing(v: readonly number[]): boolean {
  for (let i = 1; i < v.length; i++) if (v[i]! > v[i - 1]!) return false;
  return true;
}

/** The per-step cost on a 1x4x64x64 latent (best of a few runs, after warm-up), in ms per model call. */
function msPerCall(overrides: Record<string, unknown> = {}, n = 30): number {
  const size = 4 * 64 * 64;
  const eps = Float32Array.from({ length: size }, (_, i) => Math.fround(Math.cos(i) * 0.5));
  let best = Infinity;
  for (let rep = 0; rep < 4; rep++) {
    const s = make(overrides);
    s.setTimesteps(n);
    let x: Float32Array = Float32Array.from({ length: size }, (_, i) => Math.fround(Math.sin(i) * s.initNoiseSigma));
    const t0 = performance.now();
    for (const t of s.timesteps) {
      s.scaleModelInput(x, t);
      x = s.step(eps, t, x).prevSample;
    }
    best = Math.min(best, (performance.now() - t0) / s.timesteps.length);
  }
  return best;
}
// ---- end of shared test kit ----

// Generated with diffusers v0.40.0 (unmodified, CPU, torch 1.13.1 AVX2, numpy 1.24.2, scipy 1.10.1) by the reference
// procedure: SD 1.5 config + overrides, seed-1234 latent, synthetic model. `final8`/`sum`/`sumSq` are the final sample's
// first 8 values and float64 sums; `img2img` is add_noise at strength 0.6 (seed-99 noise).
const CASES: ExtraCase[] = [
  {"overrides":{"timestep_spacing":"leading","use_karras_sigmas":true},"n":4,"timesteps":[999.0,687.0,146.0,0.0],"numCalls":4,"sigmas":[14.614645004272461,3.1686108112335205,0.44692087173461914,0.029167532920837402,0.0],"initNoiseSigma":1.0,"final8":[-1.2247642278671265,-5.362296104431152,1.7293684482574463,-9.50225830078125,0.5557071566581726,7.161557674407959,-0.6650869846343994,-5.049542427062988],"sum":-166.2112337872386,"sumSq":27312.085531120174,"img2img":{"beginIndex":2,"first8":[0.5786730647087097,-0.6218686103820801,0.7516157627105713,0.798856258392334,0.5872116088867188,1.1913961172103882,0.5821292400360107,0.00987166166305542],"sum":111.78728300333023}},
  {"overrides":{"timestep_spacing":"leading","use_karras_sigmas":true},"n":20,"timesteps":[999.0,962.0,921.0,876.0,827.0,772.0,710.0,640.0,561.0,474.0,380.0,285.0,197.0,123.0,69.0,35.0,15.0,6.0,2.0,0.0],"numCalls":20,"sigmas":[14.614645004272461,11.725371360778809,9.340210914611816,7.3836259841918945,5.7894206047058105,4.499843597412109,3.464755058288574,2.6408474445343018,1.9909214973449707,1.4832165241241455,1.0907905101776123,0.7909494638442993,0.5647244453430176,0.39639222621917725,0.2730397582054138,0.18416930735111237,0.12134243547916412,0.07786080986261368,0.048481911420822144,0.029167532920837402,0.0],"initNoiseSigma":1.0,"final8":[-1.2870686054229736,-5.307785511016846,1.5836615562438965,-9.330867767333984,0.4431355893611908,6.862483978271484,-0.7431924939155579,-5.003861904144287],"sum":-186.32050699274987,"sumSq":25825.366911648478,"img2img":{"beginIndex":8,"first8":[0.4920230507850647,-2.13726544380188,0.8707822561264038,0.9742430448532104,0.5107232928276062,1.833938717842102,0.4995924234390259,-0.7537004351615906],"sum":46.34169368445873}},
  {"overrides":{"timestep_spacing":"linspace","use_karras_sigmas":true},"n":50,"timesteps":null,"numCalls":50,"sigmas":null,"initNoiseSigma":1.0,"final8":[-1.2879217863082886,-5.310219764709473,1.583936095237732,-9.334878921508789,0.4429624676704407,6.864832878112793,-0.7438317537307739,-5.0061750411987305],"sum":-186.48264543619007,"sumSq":25845.786761850082,"img2img":{"beginIndex":20,"first8":[0.48322176933288574,-2.1814825534820557,0.8670827746391296,0.9719371795654297,0.502173900604248,1.8432128429412842,0.4908931255340576,-0.7792813181877136],"sum":43.01615711301565}},
  {"overrides":{"timestep_spacing":"leading","prediction_type":"sample"},"n":20,"timesteps":[941.0,894.0,847.0,800.0,753.0,706.0,659.0,612.0,565.0,518.0,471.0,424.0,377.0,330.0,283.0,236.0,189.0,142.0,95.0,48.0],"numCalls":20,"sigmas":[10.425044059753418,8.088178634643555,6.380311012268066,5.111029624938965,4.1520586013793945,3.415703058242798,2.8411622047424316,2.385716438293457,2.0189619064331055,1.7189897298812866,1.4698150157928467,1.2596293687820435,1.0795869827270508,0.9229525327682495,0.7844800353050232,0.6599331498146057,0.5456569790840149,0.43806231021881104,0.33262351155281067,0.2204103320837021,0.0],"initNoiseSigma":1.0,"final8":[0.022693533450365067,0.012412323616445065,0.030034154653549194,0.0021250806748867035,0.027117766439914703,0.043532416224479675,0.02408425696194172,0.013189475052058697],"sum":6.175636221654713,"sumSq":0.3169521194885536,"img2img":{"beginIndex":8,"first8":[0.49027031660079956,-2.1463544368743896,0.8700863122940063,0.9738357663154602,0.5090227127075195,1.8359302282333374,0.49786078929901123,-0.7589289546012878],"sum":45.67084924131632}},
  {"overrides":{"timestep_spacing":"trailing","prediction_type":"v_prediction"},"n":20,"timesteps":[999.0,949.0,899.0,849.0,799.0,749.0,699.0,649.0,599.0,549.0,499.0,449.0,399.0,349.0,299.0,249.0,199.0,149.0,99.0,49.0],"numCalls":20,"sigmas":[14.614645004272461,10.9042387008667,8.302804946899414,6.442956924438477,5.087765216827393,4.081730842590332,3.3210842609405518,2.7354700565338135,2.276463747024536,1.910251498222351,1.6128870248794556,1.3671733140945435,1.1605788469314575,0.9838175773620605,0.8298599720001221,0.6932054162025452,0.5692853927612305,0.45381903648376465,0.34167441725730896,0.2230038195848465,0.0],"initNoiseSigma":1.0,"final8":[-0.11039074510335922,-0.43482527136802673,0.12125039100646973,-0.759450376033783,0.029220648109912872,0.547202467918396,-0.06650499254465103,-0.4103015959262848],"sum":-16.7076221043244,"sumSq":168.35615756392195,"img2img":{"beginIndex":8,"first8":[0.4752664566040039,-2.218599796295166,0.8633283376693726,0.9693302512168884,0.4944259524345398,1.8501406908035278,0.4830217957496643,-0.801052987575531],"sum":40.096565663814545}},
  {"overrides":{"timestep_spacing":"leading","final_sigmas_type":"sigma_min"},"n":20,"timesteps":[941.0,894.0,847.0,800.0,753.0,706.0,659.0,612.0,565.0,518.0,471.0,424.0,377.0,330.0,283.0,236.0,189.0,142.0,95.0,48.0],"numCalls":20,"sigmas":[10.425044059753418,8.088178634643555,6.380311012268066,5.111029624938965,4.1520586013793945,3.415703058242798,2.8411622047424316,2.385716438293457,2.0189619064331055,1.7189897298812866,1.4698150157928467,1.2596293687820435,1.0795869827270508,0.9229525327682495,0.7844800353050232,0.6599331498146057,0.5456569790840149,0.43806231021881104,0.33262351155281067,0.2204103320837021,0.029167532920837402],"initNoiseSigma":1.0,"final8":[-1.0303661823272705,-4.013588905334473,1.0996086597442627,-6.998564720153809,0.25338101387023926,5.016299247741699,-0.6268302798271179,-3.7880895137786865],"sum":-157.5476674810052,"sumSq":14239.398914965292,"img2img":{"beginIndex":8,"first8":[0.49027031660079956,-2.1463544368743896,0.8700863122940063,0.9738357663154602,0.5090227127075195,1.8359302282333374,0.49786078929901123,-0.7589289546012878],"sum":45.67084924131632}},
  {"overrides":{"timestep_spacing":"trailing","use_karras_sigmas":true,"prediction_type":"v_prediction"},"n":4,"timesteps":[999.0,687.0,146.0,0.0],"numCalls":4,"sigmas":[14.614645004272461,3.1686108112335205,0.44692087173461914,0.029167532920837402,0.0],"initNoiseSigma":1.0,"final8":[-0.1787450909614563,-0.5138464570045471,0.06051207333803177,-0.8491446375846863,-0.034543536603450775,0.5004685521125793,-0.13341647386550903,-0.4885164499282837],"sum":-33.82651465386152,"sumSq":182.9150455786404,"img2img":{"beginIndex":2,"first8":[0.5786730647087097,-0.6218686103820801,0.7516157627105713,0.798856258392334,0.5872116088867188,1.1913961172103882,0.5821292400360107,0.00987166166305542],"sum":111.78728300333023}},
  {"overrides":{"timestep_spacing":"leading","solver_order":3},"n":20,"timesteps":[941.0,894.0,847.0,800.0,753.0,706.0,659.0,612.0,565.0,518.0,471.0,424.0,377.0,330.0,283.0,236.0,189.0,142.0,95.0,48.0],"numCalls":20,"sigmas":[10.425044059753418,8.088178634643555,6.380311012268066,5.111029624938965,4.1520586013793945,3.415703058242798,2.8411622047424316,2.385716438293457,2.0189619064331055,1.7189897298812866,1.4698150157928467,1.2596293687820435,1.0795869827270508,0.9229525327682495,0.7844800353050232,0.6599331498146057,0.5456569790840149,0.43806231021881104,0.33262351155281067,0.2204103320837021,0.0],"initNoiseSigma":1.0,"final8":[-1.02593994140625,-4.0021772384643555,1.0990467071533203,-6.980162143707275,0.25480085611343384,5.006565570831299,-0.6233491897583008,-3.7772057056427],"sum":-156.6633462831378,"sumSq":14172.152700189654,"img2img":{"beginIndex":8,"first8":[0.49027031660079956,-2.1463544368743896,0.8700863122940063,0.9738357663154602,0.5090227127075195,1.8359302282333374,0.49786078929901123,-0.7589289546012878],"sum":45.67084924131632}},
  {"overrides":{"timestep_spacing":"leading","solver_order":1},"n":20,"timesteps":[941.0,894.0,847.0,800.0,753.0,706.0,659.0,612.0,565.0,518.0,471.0,424.0,377.0,330.0,283.0,236.0,189.0,142.0,95.0,48.0],"numCalls":20,"sigmas":[10.425044059753418,8.088178634643555,6.380311012268066,5.111029624938965,4.1520586013793945,3.415703058242798,2.8411622047424316,2.385716438293457,2.0189619064331055,1.7189897298812866,1.4698150157928467,1.2596293687820435,1.0795869827270508,0.9229525327682495,0.7844800353050232,0.6599331498146057,0.5456569790840149,0.43806231021881104,0.33262351155281067,0.2204103320837021,0.0],"initNoiseSigma":1.0,"final8":[-1.0263687372207642,-4.012566089630127,1.1057292222976685,-7.000515460968018,0.25865793228149414,5.0263237953186035,-0.6224309206008911,-3.786841869354248],"sum":-156.41848468780518,"sumSq":14266.226382756104,"img2img":{"beginIndex":8,"first8":[0.49027031660079956,-2.1463544368743896,0.8700863122940063,0.9738357663154602,0.5090227127075195,1.8359302282333374,0.49786078929901123,-0.7589289546012878],"sum":45.67084924131632}},
  {"overrides":{"timestep_spacing":"leading","disable_corrector":[0,3]},"n":20,"timesteps":[941.0,894.0,847.0,800.0,753.0,706.0,659.0,612.0,565.0,518.0,471.0,424.0,377.0,330.0,283.0,236.0,189.0,142.0,95.0,48.0],"numCalls":20,"sigmas":[10.425044059753418,8.088178634643555,6.380311012268066,5.111029624938965,4.1520586013793945,3.415703058242798,2.8411622047424316,2.385716438293457,2.0189619064331055,1.7189897298812866,1.4698150157928467,1.2596293687820435,1.0795869827270508,0.9229525327682495,0.7844800353050232,0.6599331498146057,0.5456569790840149,0.43806231021881104,0.33262351155281067,0.2204103320837021,0.0],"initNoiseSigma":1.0,"final8":[-1.0198746919631958,-4.001658916473389,1.109073281288147,-6.985196113586426,0.2632535696029663,5.023876190185547,-0.6165334582328796,-3.7762699127197266],"sum":-154.91305697709322,"sumSq":14222.549553240879,"img2img":{"beginIndex":8,"first8":[0.49027031660079956,-2.1463544368743896,0.8700863122940063,0.9738357663154602,0.5090227127075195,1.8359302282333374,0.49786078929901123,-0.7589289546012878],"sum":45.67084924131632}},
  {"overrides":{"timestep_spacing":"trailing","lower_order_final":false,"final_sigmas_type":"sigma_min"},"n":4,"timesteps":[999.0,749.0,499.0,249.0],"numCalls":4,"sigmas":[14.614645004272461,4.081730842590332,1.6128870248794556,0.6932054162025452,0.029167532920837402],"initNoiseSigma":1.0,"final8":[-1.0698091983795166,-4.9632568359375,1.710052728652954,-8.85899543762207,0.6056287288665771,6.821784019470215,-0.5431485176086426,-4.668956279754639],"sum":-135.23388665914536,"sumSq":24160.620559467425,"img2img":{"beginIndex":2,"first8":[0.5179838538169861,-1.9826947450637817,0.8782162666320801,0.976616382598877,0.5357693433761597,1.7942605018615723,0.5251829624176025,-0.6668058633804321],"sum":56.882032722234726}},
  {"overrides":{"timestep_spacing":"leading","use_karras_sigmas":true,"sigma_min":0.1,"sigma_max":10.0},"n":20,"timesteps":[934.0,900.0,864.0,825.0,783.0,736.0,685.0,630.0,568.0,502.0,431.0,357.0,284.0,215.0,153.0,103.0,64.0,38.0,21.0,10.0],"numCalls":20,"sigmas":[10.0,8.353620529174805,6.945262432098389,5.745530605316162,4.728007793426514,3.869023561477661,3.1474342346191406,2.544415235519409,2.043264627456665,1.6292182207107544,1.2892756462097168,1.0120376348495483,0.7875533699989319,0.6071774959564209,0.463437557220459,0.34991011023521423,0.26110634207725525,0.19236598908901215,0.13975980877876282,0.10000000149011612,0.0],"initNoiseSigma":1.0,"final8":[-0.994398832321167,-3.859818935394287,1.051466703414917,-6.72692346572876,0.23865514993667603,4.813491344451904,-0.6067979335784912,-3.6432228088378906],"sum":-152.5347304046154,"sumSq":13138.451639972438,"img2img":{"beginIndex":8,"first8":[0.4887704849243164,-2.1540167331695557,0.8694742918014526,0.9734662771224976,0.5075667500495911,1.8375756740570068,0.4963787794113159,-0.7633485198020935],"sum":45.10029324144125}},
  {"overrides":{"timestep_spacing":"leading","use_exponential_sigmas":true},"n":20,"timesteps":[999.0,942.0,881.0,814.0,741.0,659.0,569.0,472.0,373.0,277.0,192.0,124.0,75.0,43.0,23.0,12.0,5.0,2.0,0.0,0.0],"numCalls":20,"sigmas":[14.614645004272461,10.536317825317383,7.596078872680664,5.4763360023498535,3.948122978210449,2.846369504928589,2.0520687103271484,1.4794234037399292,1.0665791034698486,0.7689421772956848,0.5543630719184875,0.39966386556625366,0.2881346344947815,0.20772850513458252,0.14976029098033905,0.10796855390071869,0.07783911377191544,0.056117523461580276,0.040457505732774734,0.029167532920837402,0.0],"initNoiseSigma":1.0,"final8":[-1.2862473726272583,-5.311378479003906,1.5876330137252808,-9.338874816894531,0.4458552598953247,6.87224817276001,-0.7417747974395752,-5.007122039794922],"sum":-185.95335772819817,"sumSq":25881.260413414297,"img2img":{"beginIndex":8,"first8":[0.5604451894760132,-1.5860042572021484,0.8696494698524475,0.9541109204292297,0.5757112503051758,1.655933141708374,0.5666245222091675,-0.45651525259017944],"sum":78.47837136685848}},
  {"overrides":{"timestep_spacing":"leading","solver_type":"bh1"},"n":20,"timesteps":[941.0,894.0,847.0,800.0,753.0,706.0,659.0,612.0,565.0,518.0,471.0,424.0,377.0,330.0,283.0,236.0,189.0,142.0,95.0,48.0],"numCalls":20,"sigmas":[10.425044059753418,8.088178634643555,6.380311012268066,5.111029624938965,4.1520586013793945,3.415703058242798,2.8411622047424316,2.385716438293457,2.0189619064331055,1.7189897298812866,1.4698150157928467,1.2596293687820435,1.0795869827270508,0.9229525327682495,0.7844800353050232,0.6599331498146057,0.5456569790840149,0.43806231021881104,0.33262351155281067,0.2204103320837021,0.0],"initNoiseSigma":1.0,"preFinalX4":[-1.023008942604065,-3.99116849899292,1.096211552619934,-6.961075782775879],"diffusersFinalIsNaN":true,"img2img":{"beginIndex":8,"first8":[0.49027031660079956,-2.1463544368743896,0.8700863122940063,0.9738357663154602,0.5090227127075195,1.8359302282333374,0.49786078929901123,-0.7589289546012878],"sum":45.67084924131632}},
  {"overrides":{"timestep_spacing":"leading","predict_x0":false},"n":20,"timesteps":[941.0,894.0,847.0,800.0,753.0,706.0,659.0,612.0,565.0,518.0,471.0,424.0,377.0,330.0,283.0,236.0,189.0,142.0,95.0,48.0],"numCalls":20,"sigmas":[10.425044059753418,8.088178634643555,6.380311012268066,5.111029624938965,4.1520586013793945,3.415703058242798,2.8411622047424316,2.385716438293457,2.0189619064331055,1.7189897298812866,1.4698150157928467,1.2596293687820435,1.0795869827270508,0.9229525327682495,0.7844800353050232,0.6599331498146057,0.5456569790840149,0.43806231021881104,0.33262351155281067,0.2204103320837021,0.0],"initNoiseSigma":1.0,"preFinalX4":[-1.0238733291625977,-3.9913272857666016,1.0948426723480225,-6.9605231285095215],"diffusersFinalIsNaN":true,"img2img":{"beginIndex":8,"first8":[0.49027031660079956,-2.1463544368743896,0.8700863122940063,0.9738357663154602,0.5090227127075195,1.8359302282333374,0.49786078929901123,-0.7589289546012878],"sum":45.67084924131632}},
  {"overrides":{"timestep_spacing":"trailing","predict_x0":false,"final_sigmas_type":"sigma_min"},"n":20,"timesteps":[999.0,949.0,899.0,849.0,799.0,749.0,699.0,649.0,599.0,549.0,499.0,449.0,399.0,349.0,299.0,249.0,199.0,149.0,99.0,49.0],"numCalls":20,"sigmas":[14.614645004272461,10.9042387008667,8.302804946899414,6.442956924438477,5.087765216827393,4.081730842590332,3.3210842609405518,2.7354700565338135,2.276463747024536,1.910251498222351,1.6128870248794556,1.3671733140945435,1.1605788469314575,0.9838175773620605,0.8298599720001221,0.6932054162025452,0.5692853927612305,0.45381903648376465,0.34167441725730896,0.2230038195848465,0.029167532920837402],"initNoiseSigma":1.0,"final8":[-1.2961432933807373,-5.326837539672852,1.581709384918213,-9.35989761352539,0.43835362792015076,6.873627662658691,-0.7509182095527649,-5.02216100692749],"sum":-188.28861456224695,"sumSq":25955.89770764849,"img2img":{"beginIndex":8,"first8":[0.4752664566040039,-2.218599796295166,0.8633283376693726,0.9693302512168884,0.4944259524345398,1.8501406908035278,0.4830217957496643,-0.801052987575531],"sum":40.096565663814545}},
  {"overrides":{"timestep_spacing":"linspace"},"n":2,"timesteps":[999.0,500.0],"numCalls":2,"sigmas":[14.614645004272461,1.6182795763015747,0.0],"initNoiseSigma":1.0,"final8":[-0.9684565663337708,-5.6691179275512695,2.387741804122925,-10.372540473937988,1.0543419122695923,8.559266090393066,-0.3326057493686676,-5.313798904418945],"sum":-80.54464174807072,"sumSq":35138.56878674058,"img2img":{"beginIndex":1,"first8":[0.5175842046737671,-1.9854073524475098,0.8781498074531555,0.9766409397125244,0.5353861451148987,1.7950414419174194,0.5247899889945984,-0.6683014035224915],"sum":56.70968505740166}},
  {"overrides":{"rescale_betas_zero_snr":true,"prediction_type":"v_prediction","timestep_spacing":"trailing"},"n":20,"timesteps":[999.0,949.0,899.0,849.0,799.0,749.0,699.0,649.0,599.0,549.0,499.0,449.0,399.0,349.0,299.0,249.0,199.0,149.0,99.0,49.0],"numCalls":20,"sigmas":[4095.999755859375,40.39237594604492,18.130064010620117,10.901703834533691,7.410708427429199,5.398741722106934,4.114186763763428,3.2360517978668213,2.6048567295074463,2.132852077484131,1.7680811882019043,1.4780176877975464,1.241375207901001,1.0436838865280151,0.8747438192367554,0.7270563840866089,0.5947520732879639,0.47266286611557007,0.35498952865600586,0.2312006801366806,0.0],"initNoiseSigma":1.0,"final8":[-0.11021965742111206,-0.43196040391921997,0.11949819326400757,-0.7538904547691345,0.02823253534734249,0.541913628578186,-0.06669830530881882,-0.40764039754867554],"sum":-16.75974968681112,"sumSq":165.59696892109758,"img2img":{"beginIndex":8,"first8":[0.4587657153606415,-2.288094997406006,0.8544616103172302,0.9625487923622131,0.47830212116241455,1.8606868982315063,0.4666735827922821,-0.8426618576049805],"sum":34.26767606288195}},
  {"overrides":{"rescale_betas_zero_snr":true,"prediction_type":"v_prediction","timestep_spacing":"linspace","use_karras_sigmas":true},"n":4,"timesteps":[999.0,994.0,892.0,0.0],"numCalls":4,"sigmas":[4095.999755859375,443.79229736328125,16.780120849609375,0.029167532920837402,0.0],"initNoiseSigma":1.0,"final8":[-0.07618352770805359,-0.09342753142118454,-0.06387157738208771,-0.11068165302276611,-0.06876305490732193,-0.041231852024793625,-0.07385095953941345,-0.0921240746974945],"sum":-18.888962234290375,"sumSq":1.8662515895022855,"img2img":{"beginIndex":2,"first8":[0.32867515087127686,-2.608433723449707,0.7517770528793335,0.8673503994941711,0.34956464171409607,1.8276937007904053,0.33713069558143616,-1.0628896951675415],"sum":-4.796329069882631}},
];

// torch.expm1 of float32 0-d tensors and torch.linalg.solve of float32 2x2 systems on the CPU (torch 1.13.1, AVX2,
// OpenBLAS). The first 8 expm1 values are ones where torch (SLEEF u10) differs by 1 ulp from the correctly rounded result.
const TORCH_EXPM1: [x: number, torch: number][] = [
  [-16.959274291992188, -1.0], [-16.69137954711914, -1.0], [-16.76358413696289, -1.0],
  [-16.837358474731445, -1.0], [-16.76218032836914, -1.0], [-16.96161651611328, -1.0],
  [-17.17506980895996, -1.0], [-17.133495330810547, -1.0], [-16.190040588378906, -0.9999998807907104],
  [-15.154281616210938, -0.9999997615814209], [-3.1539857387542725, -0.9573183059692383], [2.654189109802246, 13.213456153869629],
];
const TORCH_SOLVE: [R: number[], b: number[], x: number[]][] = [
  [[0.019917242228984833, -0.2323378473520279, -2.3014543056488037, -2.0586185455322266], [-0.1693495661020279, 0.40564659237861633], [-0.7692551016807556, 0.6629489064216614]],
  [[2.4995131492614746, 2.784667491912842, 0.043449562042951584, 1.56160569190979], [-0.4968104362487793, -0.023927398025989532], [-0.18750478327274323, -0.010105252265930176]],
  [[-2.1150739192962646, -0.4999631345272064, -0.776324987411499, 0.14070136845111847], [-0.7895305156707764, 0.6041728854179382], [-0.2785014510154724, 2.75736665725708]],
  [[-0.10757280141115189, -1.2832145690917969, -1.4167371988296509, 1.4128522872924805], [-0.9936290979385376, -0.8074328303337097], [1.2385823726654053, 0.6704968810081482]],
  [[0.6460278630256653, 0.5329083204269409, -2.500084400177002, -2.6075356006622314], [0.7898058891296387, 0.9843351244926453], [7.336244583129883, -7.411429405212402]],
  [[2.690814971923828, -0.12352416664361954, -0.8505481481552124, 0.2730239927768707], [0.40830352902412415, 0.901806652545929], [0.35399267077445984, 4.405819892883301]],
  [[0.26879116892814636, -0.9318782687187195, 0.5300756096839905, 1.408058524131775], [-0.748845636844635, -0.9907121658325195], [-2.2667949199676514, 0.14975261688232422]],
  [[0.33645981550216675, -1.80631422996521, 0.9014555215835571, -1.5250427722930908], [0.6609660387039185, 0.33502718806266785], [-0.3612252473831177, -0.433204710483551]],
  [[-2.6321029663085938, -2.1017520427703857, 0.9349807500839233, 0.18726781010627747], [-0.2530312240123749, 0.9564499258995056], [1.333276629447937, -1.5493216514587402]],
  [[-0.06913269311189651, 1.8872922658920288, 0.12971676886081696, 2.8083202838897705], [0.6469594836235046, 0.005616997834295034], [-4.114879608154297, 0.19206710159778595]],
  [[-0.18191181123256683, -2.426928997039795, -0.4854811429977417, 2.6575114727020264], [0.6228048205375671, 0.2706878185272217], [-1.3914095163345337, -0.1523287147283554]],
  [[1.5538432598114014, -1.8592137098312378, -2.430326461791992, -2.6224489212036133], [0.2620917856693268, 0.6320328712463379], [-0.05676024779677391, -0.18840670585632324]],
];

// torch.linalg.solve on a non-contiguous 2x2 slice R3[:-1, :-1] (UniPC order-3 predictor): [R row-major, b, x]
const TORCH_SOLVE_STRIDED: [R: number[], b: number[], x: number[]][] = [
  [[-3.389533758163452, 2.2393503189086914, 1.7877213954925537, 3.82391619682312], [-0.00023499835515394807, 0.3584599792957306], [0.047370098531246185, 0.07159556448459625]],
  [[-0.9524709582328796, -3.4725091457366943, 3.2767481803894043, -2.292917251586914], [0.9002590179443359, -0.5393942594528198], [-0.2903062403202057, -0.17962539196014404]],
  [[3.273026943206787, -2.9346444606781006, 2.003278970718384, 1.352105975151062], [-0.04519769176840782, -0.2682192325592041], [-0.08231832087039948, -0.07640870660543442]],
  [[2.1491799354553223, -1.4880425930023193, -1.7916076183319092, -0.3772565424442291], [0.4386482536792755, -0.1740163415670395], [0.12207461148500443, -0.11846969276666641]],
  [[-2.556386947631836, 1.9289510250091553, -0.5883713960647583, 1.0750389099121094], [0.4187887907028198, 0.048691194504499435], [-0.22084957361221313, -0.07557901740074158]],
  [[3.6437466144561768, 1.4633108377456665, -1.529178500175476, 0.7407575249671936], [-0.05535200610756874, 0.682953417301178], [-0.21073903143405914, 0.48692837357521057]],
  [[-1.5301307439804077, -0.29602885246276855, -0.11339817196130753, -2.9049911499023438], [-0.17019645869731903, -0.10375868529081345], [0.10511372238397598, 0.03161420300602913]],
  [[2.3711256980895996, 0.1791210174560547, 2.2257087230682373, 3.09831166267395], [0.7513434290885925, -0.44687384366989136], [0.34657523036003113, -0.39319780468940735]],
];
// torch.linalg.solve on UniPC-shaped 3x3 systems [[1,1,1],[r1,r2,1],[r1^2,r2^2,1]] (order-3 corrector)
const TORCH_SOLVE_3X3: [R: number[], b: number[], x: number[]][] = [
  [[1.0, 1.0, 1.0, -0.6893932223320007, -2.0551676750183105, 1.0, 0.4752630293369293, 4.223714351654053, 1.0], [0.18828853964805603, 0.495248943567276, 0.14155124127864838], [-0.12012037634849548, -0.03405044600367546, 0.3424593508243561]],
  [[1.0, 1.0, 1.0, -1.9644951820373535, -1.5294374227523804, 1.0, 3.859241247177124, 2.3391788005828857, 1.0], [0.3566229045391083, 0.45991265773773193, 0.5368967652320862], [0.18217769265174866, -0.25434696674346924, 0.42879217863082886]],
  [[1.0, 1.0, 1.0, -0.6184399127960205, -1.817166805267334, 1.0, 0.38246792554855347, 3.3020951747894287, 1.0], [0.10428596287965775, 0.35215410590171814, 0.3778817355632782], [-0.24542725086212158, 0.05301109328866005, 0.296702116727829]],
  [[1.0, 1.0, 1.0, -2.8390514850616455, -3.0220682621002197, 1.0, 8.060213088989258, 9.132896423339844, 1.0], [0.46466246247291565, 0.5970719456672668, 0.6650855541229248], [-0.6663209199905396, 0.6030804514884949, 0.5279029011726379]],
  [[1.0, 1.0, 1.0, -2.628371238708496, -4.732631206512451, 1.0, 6.908335208892822, 22.397798538208008, 1.0], [0.4954950511455536, 0.17948439717292786, 0.234447181224823], [0.1886826753616333, -0.0642985925078392, 0.3711109757423401]],
  [[1.0, 1.0, 1.0, -1.332898497581482, -5.067619323730469, 1.0, 1.7766183614730835, 25.68076515197754, 1.0], [0.5693380832672119, 0.6141853928565979, 0.12020452320575714], [0.030611872673034668, -0.01916101574897766, 0.5578871965408325]],
  [[1.0, 1.0, 1.0, -1.4553300142288208, -1.6167675256729126, 1.0, 2.117985486984253, 2.6139371395111084, 1.0], [0.68508380651474, 0.2645551562309265, 0.20146064460277557], [1.8744316101074219, -1.5980859994888306, 0.40873825550079346]],
  [[1.0, 1.0, 1.0, -0.4575673043727875, -0.9994964599609375, 1.0, 0.20936784148216248, 0.9989931583404541, 1.0], [0.21851973235607147, 0.3649178445339203, 0.531539261341095], [-0.3961849808692932, 0.21558839082717896, 0.3991163372993469]],
];

describe('unipc: diffusers golden lines', () => {
  const lines = goldenLines();
  it('has the shared line and the fixture lines', () => {
    expect(lines.some(({ source }) => source === 'shared')).toBe(true);
    expect(lines.length).toBeGreaterThanOrEqual(2);
  });
  for (const { source, line } of lines) it(`${line.name} [${source}]`, () => checkGolden(line));
  it('reproduces the shared 20-step line bit for bit', () => {
    checkBitExact(lines.find(({ source }) => source === 'shared')!.line);
  });
});

describe('unipc: more diffusers v0.40.0 runs (Karras, v_prediction, sample, orders 1/3, bh1, disable_corrector, ...)', () => {
  // bh1 and predict_x0=false: diffusers' last step to sigma 0 is NaN there (B_h = -inf or expm1(+inf) times 0);
  // those cases check every step before it, and that our last step is finite (its limit, the x0 estimate).
  for (const c of CASES) it(caseTitle(c), () => checkExtraCase(c));
});

describe('unipc: schedule invariants', () => {
  for (const spacing of SPACINGS) {
    for (const karras of [false, true]) {
      it(`${spacing}${karras ? ' karras' : ''}: N int timesteps, N+1 sigmas ending in 0, finite run`, () => {
        for (const n of STEP_COUNTS) {
          const s = make({ timestep_spacing: spacing, use_karras_sigmas: karras });
          s.setTimesteps(n);
          expect(s.timesteps.length).toBe(n);
          expect(s.timesteps.every(Number.isInteger)).toBe(true);
          expect(s.sigmas!.length).toBe(n + 1);
          expect(s.sigmas![n]).toBe(0);
          expect(s.initNoiseSigma).toBe(1);
          expect(monotoneNonIncreasing(s.timesteps)).toBe(true);
          expect(monotoneNonIncreasing(s.sigmas!)).toBe(true);
          expect(s.timesteps.every((t) => t >= 0 && t <= 999)).toBe(true);
          if (n <= 50) {
            const r = runSynthetic(s, n);
            expect(r.final.every(Number.isFinite)).toBe(true);
            // the last predictor goes to sigma 0 with order 1: exactly the x0 estimate
            expect(Array.from(r.final)).toEqual(Array.from(r.preds[r.preds.length - 1]!));
          }
        }
      });
    }
  }
});

describe('unipc: behaviour', () => {
  it('uses the DPM-Solver spacing rules', () => {
    const s = make({ timestep_spacing: 'leading' });
    s.setTimesteps(4);
    expect(s.timesteps).toEqual([801, 601, 401, 201]);
    const l = make({ timestep_spacing: 'linspace' });
    l.setTimesteps(4);
    expect(l.timesteps).toEqual([999, 749, 500, 250]);
  });

  it('the corrector changes the incoming sample from the second step on (and disable_corrector turns it off)', () => {
    const a = runSynthetic(make({ timestep_spacing: 'leading' }), 6);
    const b = runSynthetic(make({ timestep_spacing: 'leading', disable_corrector: [0, 1, 2, 3, 4] }), 6);
    expect(Array.from(a.xs[0]!)).toEqual(Array.from(b.xs[0]!)); // step 0: predictor only in both
    expect(Array.from(a.xs[1]!)).not.toEqual(Array.from(b.xs[1]!));
  });

  it('N = 1 is finite for every spacing, Karras, bh1 and predict_x0 = false', () => {
    for (const spacing of SPACINGS) {
      for (const extra of [{}, { use_karras_sigmas: true }, { solver_type: 'bh1' }, { predict_x0: false }]) {
        const r = runSynthetic(make({ timestep_spacing: spacing, ...extra }), 1);
        expect(r.final.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('the last step of bh1 / predict_x0=false is the x0 limit, not diffusers\' NaN', () => {
    const r = runSynthetic(make({ timestep_spacing: 'trailing', solver_type: 'bh1' }), 4);
    expect(Array.from(r.final)).toEqual(Array.from(r.preds[3]!));
    const e = runSynthetic(make({ timestep_spacing: 'trailing', predict_x0: false }), 4);
    expect(e.final.every(Number.isFinite)).toBe(true);
  });

  it('add_noise is alpha_t * x0 + sigma_t * noise; scale_model_input is the identity', () => {
    const s = make({ timestep_spacing: 'trailing' });
    s.setTimesteps(10);
    const x0 = Float32Array.from([0.5, -1, 2, 0]);
    const noise = Float32Array.from([1, 0.25, -3, 7]);
    expect(s.scaleModelInput(x0, s.timesteps[0]!)).toBe(x0);
    for (const idx of [0, 5, 9]) {
      const sigma = s.sigmas![idx]!;
      const alphaT = fround(1 / fround(Math.sqrt(fround(fround(sigma * sigma) + 1))));
      const sigmaT = fround(sigma * alphaT);
      expect(Array.from(s.addNoise(x0, noise, idx))).toEqual(Array.from(x0, (v, i) => fround(fround(alphaT * v) + fround(sigmaT * noise[i]!))));
    }
  });

  it("reproduces torch's float32 linalg.solve (2x2 contiguous and sliced, 3x3) and expm1 (SLEEF u10) bit for bit", () => {
    for (const [R, b, x] of TORCH_SOLVE) expect(solve2x2F32(R[0]!, R[1]!, R[2]!, R[3]!, b[0]!, b[1]!)).toEqual(x);
    for (const [R, b, x] of TORCH_SOLVE_STRIDED) expect(solve2x2F32Strided(R[0]!, R[1]!, R[2]!, R[3]!, b[0]!, b[1]!)).toEqual(x);
    for (const [R, b, x] of TORCH_SOLVE_3X3) expect(solveF32([R.slice(0, 3), R.slice(3, 6), R.slice(6, 9)], b)).toEqual(x);
    for (const [x, y] of TORCH_EXPM1) expect(expm1F32(x), `expm1(${x})`).toBe(y);
    expect(expm1F32(-Infinity)).toBe(-1);
  });

  it('rejects what it does not implement', () => {
    expect(() => make({ thresholding: true })).toThrow();
    expect(() => make({ solver_order: 4 })).toThrow();
    expect(() => make({ use_flow_sigmas: true })).toThrow();
  });

  it('costs well under 1 ms per step on a 1x4x64x64 latent', () => {
    const ms = msPerCall();
    console.log(`unipc: ${ms.toFixed(3)} ms per step (1x4x64x64)`);
    expect(ms).toBeLessThan(5); // generous: the CI box is shared; measured ~0.15 ms
  });
});
