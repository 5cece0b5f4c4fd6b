// HeunDiscreteScheduler port: diffusers v0.40.0 golden lines (shared sample + fixtures, img2img included), extra
// diffusers runs generated for this test (embedded below), schedule invariants at 1-100 steps and all spacings, and
// Heun's own behaviour (duplicated timesteps, 2N-1 calls, scaling of the 2nd call, final Euler step, add_noise).
import { describe, expect, it } from 'vitest';
import { img2imgTimesteps } from '../../../src-main/engine/schedulers/index.js';
import type { SchedulerName } from '../../../src-main/engine/schedulers/types.js';
import {
  caseTitle,
  checkBitExact,
  checkGolden,
  type ExtraCase,
  extraReferenceKit,
  fround,
  monotoneNonIncreasing,
  runSynthetic,
  scaledErr,
  SPACINGS,
  STEP_COUNTS,
} from './extra-reference-kit.js';
import { loadTables, syntheticModel } from './golden-harness.js';

const NAME: SchedulerName = 'heun';
const DIFFUSERS_CLASS = 'HeunDiscreteScheduler';
const { make, checkExtraCase, goldenLines, msPerCall } = extraReferenceKit(NAME, DIFFUSERS_CLASS);

// Generated with diffusers v0.40.0 (unmodified, CPU, torch 1.13.1 AVX2, numpy 1.24.2, scipy 1.10.1) by the reference
// procedure: SD 1.5 config + overrides, seed-1234 latent, synthetic model. `final8`/`sum`/`sumSq` are the final sample's
// first 8 values and float64 sums; `img2img` is add_noise at strength 0.6 (seed-99 noise).
const CASES: ExtraCase[] = [
  {"overrides":{"timestep_spacing":"leading","use_karras_sigmas":true},"n":4,"timesteps":[751.0,411.4154052734375,411.4154052734375,69.40315246582031,69.40315246582031,1.0,1.0],"numCalls":7,"sigmas":[4.116697788238525,1.208777666091919,1.208777666091919,0.27338719367980957,0.27338719367980957,0.04131447896361351,0.04131447896361351,0.0],"initNoiseSigma":4.236413478851318,"final8":[-0.3731045424938202,-1.6679776906967163,0.5514147281646729,-2.9636118412017822,0.18410815298557281,2.251460552215576,-0.1979490965604782,-1.5700993537902832],"sum":-49.407153852283955,"sumSq":2673.983923454991,"img2img":{"beginIndex":4,"first8":[0.5818688273429871,-0.22252368927001953,0.6977446675300598,0.7293969988822937,0.5875898599624634,0.9924083948135376,0.5841845870018005,0.20075789093971252],"sum":124.6010017991066}},
  {"overrides":{"timestep_spacing":"trailing","use_karras_sigmas":true},"n":4,"timesteps":[999.0,837.1668701171875,837.1668701171875,593.6463012695312,593.6463012695312,249.0,249.0],"numCalls":7,"sigmas":[14.614645004272461,6.083512783050537,6.083512783050537,2.233309030532837,2.233309030532837,0.6932054162025452,0.6932054162025452,0.0],"initNoiseSigma":14.614645004272461,"final8":[-1.266187310218811,-5.175738334655762,1.5251708030700684,-9.087584495544434,0.4161789119243622,6.658041477203369,-0.737348735332489,-4.880217552185059],"sum":-184.93342969939113,"sumSq":24422.421496698633,"img2img":{"beginIndex":4,"first8":[1.1687891483306885,-5.40231990814209,2.1153829097747803,2.3739519119262695,1.215524673461914,4.522500038146973,1.1877065896987915,-1.944518804550171],"sum":100.2334672510624}},
  {"overrides":{"timestep_spacing":"linspace","use_karras_sigmas":true},"n":4,"timesteps":[999.0,687.1532592773438,687.1532592773438,145.93902587890625,145.93902587890625,0.0,0.0],"numCalls":7,"sigmas":[14.614645004272461,3.1686108112335205,3.1686108112335205,0.44692087173461914,0.44692087173461914,0.029167532920837402,0.029167532920837402,0.0],"initNoiseSigma":14.614645004272461,"final8":[-1.209351658821106,-4.861861228942871,1.3984832763671875,-8.51651668548584,0.36240440607070923,6.193882465362549,-0.7152823805809021,-4.585771083831787],"sum":-179.5361599251628,"sumSq":21325.900707185963,"img2img":{"beginIndex":4,"first8":[0.6338354349136353,-0.6811486482620239,0.823263943195343,0.8750077486038208,0.643187940120697,1.304966688156128,0.6376211047172546,0.0108126699924469],"sum":122.44347307085991}},
  {"overrides":{"timestep_spacing":"leading","use_karras_sigmas":true},"n":20,"timesteps":[951.0,913.7394409179688,913.7394409179688,873.1348266601562,873.1348266601562,828.625244140625,828.625244140625,779.5436401367188,779.5436401367188,725.124267578125,725.124267578125,664.55517578125,664.55517578125,597.1300048828125,597.1300048828125,522.5737915039062,522.5737915039062,441.6042785644531,441.6042785644531,356.6148681640625,356.6148681640625,272.0289611816406,272.0289611816406,193.71612548828125,193.71612548828125,127.39197540283203,127.39197540283203,76.7376480102539,76.7376480102539,42.189613342285156,42.189613342285156,21.151853561401367,21.151853561401367,9.592665672302246,9.592665672302246,3.76312518119812,3.76312518119812,1.0,1.0],"numCalls":39,"sigmas":null,"initNoiseSigma":11.073579788208008,"final8":[-1.0677884817123413,-4.1904754638671875,1.1617612838745117,-7.314997673034668,0.2759731709957123,5.261554718017578,-0.6453873515129089,-3.9544334411621094],"sum":-162.16173985600471,"sumSq":15598.370598850044,"img2img":{"beginIndex":16,"first8":[1.0227782726287842,-4.113718032836914,1.762710452079773,1.964828372001648,1.0593104362487793,3.6443030834198,1.0375657081604004,-1.4108284711837769],"sum":106.29549327492714}},
  {"overrides":{"timestep_spacing":"trailing","prediction_type":"v_prediction"},"n":20,"timesteps":[999.0,949.0,949.0,899.0,899.0,849.0,849.0,799.0,799.0,749.0,749.0,699.0,699.0,649.0,649.0,599.0,599.0,549.0,549.0,499.0,499.0,449.0,449.0,399.0,399.0,349.0,349.0,299.0,299.0,249.0,249.0,199.0,199.0,149.0,149.0,99.0,99.0,49.0,49.0],"numCalls":39,"sigmas":null,"initNoiseSigma":14.614645004272461,"final8":[-0.10952764004468918,-0.43342143297195435,0.12172745168209076,-0.757505476474762,0.029851039871573448,0.5469692945480347,-0.06571504473686218,-0.40893855690956116],"sum":-16.505927830934525,"sumSq":167.77286619790388,"img2img":{"beginIndex":16,"first8":[1.1817123889923096,-5.516371726989746,2.146597385406494,2.4101624488830566,1.2293509244918823,4.6002278327941895,1.2009952068328857,-1.9917547702789307],"sum":99.6969308257103}},
  {"overrides":{"timestep_spacing":"linspace","prediction_type":"v_prediction"},"n":4,"timesteps":[999.0,666.0,666.0,333.0,333.0,0.0,0.0],"numCalls":7,"sigmas":[14.614645004272461,2.9183082580566406,2.9183082580566406,0.9323583245277405,0.9323583245277405,0.029167532920837402,0.029167532920837402,0.0],"initNoiseSigma":14.614645004272461,"final8":[-0.14521922171115875,-0.5969306826591492,0.1772957146167755,-1.0489076375961304,0.04916219785809517,0.7703501582145691,-0.08411693572998047,-0.5627862215042114],"sum":-21.09167896467261,"sumSq":325.98413574754056,"img2img":{"beginIndex":4,"first8":[0.7792050838470459,-1.9640910625457764,1.1743874549865723,1.2823344469070435,0.7987160682678223,2.179306983947754,0.7871026396751404,-0.5205338001251221],"sum":116.40807205438614}},
  {"overrides":{"timestep_spacing":"leading","prediction_type":"sample"},"n":4,"timesteps":[751.0,501.0,501.0,251.0,251.0,1.0,1.0],"numCalls":7,"sigmas":[4.116697788238525,1.6236928701400757,1.6236928701400757,0.6983985900878906,0.6983985900878906,0.04131447896361351,0.04131447896361351,0.0],"initNoiseSigma":4.236413478851318,"final8":[-0.014172643423080444,-0.002009425312280655,-0.022856995463371277,0.010160930454730988,-0.019406750798225403,-0.03882613778114319,-0.01581794023513794,-0.0029288455843925476],"sum":-4.061304498347454,"sumSq":0.29952892370739154,"img2img":{"beginIndex":4,"first8":[0.7091432213783264,-1.345768690109253,1.0051612854003906,1.0860207080841064,0.7237582802772522,1.7579129934310913,0.7150590419769287,-0.2644479274749756],"sum":119.3168728351593}},
  {"overrides":{"timestep_spacing":"trailing","use_exponential_sigmas":true},"n":4,"timesteps":[999.0,807.5111694335938,807.5111694335938,549.7230224609375,549.7230224609375,249.0,249.0],"numCalls":7,"sigmas":[14.614645004272461,5.290290355682373,5.290290355682373,1.915008544921875,1.915008544921875,0.6932054162025452,0.6932054162025452,0.0],"initNoiseSigma":14.614645004272461,"final8":[-1.2561365365982056,-5.150804042816162,1.524594783782959,-9.047759056091309,0.4198249280452728,6.637925148010254,-0.7293112874031067,-4.856408596038818],"sum":-182.89040131866932,"sumSq":24234.904264882192,"img2img":{"beginIndex":4,"first8":[1.0734705924987793,-4.561096668243408,1.885151743888855,2.106868267059326,1.1135451793670654,3.9491968154907227,1.0896917581558228,-1.5961158275604248],"sum":104.19087064266205}},
  {"overrides":{"timestep_spacing":"leading","use_karras_sigmas":true,"prediction_type":"v_prediction"},"n":2,"timesteps":[501.0,1.0,1.0],"numCalls":3,"sigmas":[1.6236928701400757,0.04131447896361351,0.04131447896361351,0.0],"initNoiseSigma":1.9069291353225708,"final8":[-0.1115555390715599,-0.547204315662384,0.1994910091161728,-0.9831091165542603,0.07591374963521957,0.7714563608169556,-0.052626002579927444,-0.5142741799354553],"sum":-13.045713842380792,"sumSq":302.26117280571356,"img2img":{"beginIndex":2,"first8":[0.5123720765113831,0.3908116817474365,0.5298833250999451,0.5346666574478149,0.5132366418838501,0.5744131207466125,0.5127220153808594,0.4547783136367798],"sum":127.48634067177773}},
  {"overrides":{"timestep_spacing":"linspace","clip_sample":true,"prediction_type":"sample"},"n":4,"timesteps":[999.0,666.0,666.0,333.0,333.0,0.0,0.0],"numCalls":7,"sigmas":[14.614645004272461,2.9183082580566406,2.9183082580566406,0.9323583245277405,0.9323583245277405,0.029167532920837402,0.029167532920837402,0.0],"initNoiseSigma":14.614645004272461,"final8":[0.021340683102607727,0.054846882820129395,-0.002582242712378502,0.08837276697158813,0.006922218948602676,-0.046572715044021606,0.016808345913887024,0.052314162254333496],"sum":4.270131079945713,"sumSq":1.855261717655377,"img2img":{"beginIndex":4,"first8":[0.7792050838470459,-1.9640910625457764,1.1743874549865723,1.2823344469070435,0.7987160682678223,2.179306983947754,0.7871026396751404,-0.5205338001251221],"sum":116.40807205438614}},
  {"overrides":{"timestep_spacing":"trailing","use_karras_sigmas":true},"n":50,"timesteps":null,"numCalls":99,"sigmas":null,"initNoiseSigma":14.614645004272461,"final8":[-1.2859115600585938,-5.298061370849609,1.5787014961242676,-9.312570571899414,0.4406062066555023,6.846277236938477,-0.7431939244270325,-4.994786739349365],"sum":-186.32935857772827,"sumSq":25716.01793864144,"img2img":{"beginIndex":40,"first8":[1.4237794876098633,-7.652706146240234,2.7312824726104736,3.0884363651275635,1.488333821296692,6.0561652183532715,1.4499094486236572,-2.876544237136841],"sum":89.64688310027122}},
  {"overrides":{"timestep_spacing":"leading"},"n":2,"timesteps":[501.0,1.0,1.0],"numCalls":3,"sigmas":[1.6236928701400757,0.04131447896361351,0.04131447896361351,0.0],"initNoiseSigma":1.9069291353225708,"final8":[-0.15668264031410217,-0.8042670488357544,0.3056822419166565,-1.4522327184677124,0.1219872236251831,1.1558986902236938,-0.06908497214317322,-0.7553163766860962],"sum":-17.051699347095564,"sumSq":667.5523855843969,"img2img":{"beginIndex":2,"first8":[0.5123720765113831,0.3908116817474365,0.5298833250999451,0.5346666574478149,0.5132366418838501,0.5744131207466125,0.5127220153808594,0.4547783136367798],"sum":127.48634067177773}},
  {"overrides":{"rescale_betas_zero_snr":true,"prediction_type":"v_prediction","timestep_spacing":"trailing"},"n":4,"timesteps":[999.0,749.0,749.0,499.0,499.0,249.0,249.0],"numCalls":7,"sigmas":[14.614645004272461,4.081730842590332,4.081730842590332,1.6128870248794556,1.6128870248794556,0.6932054162025452,0.6932054162025452,0.0],"initNoiseSigma":14.614645004272461,"final8":[-0.11032383888959885,-0.418637752532959,0.10980752110481262,-0.72713303565979,0.022350504994392395,0.514594554901123,-0.06861869990825653,-0.3953326344490051],"sum":-17.26451539248228,"sumSq":152.2207884762301,"img2img":{"beginIndex":4,"first8":[0.982996940612793,-3.762632369995117,1.6666231155395508,1.853360652923584,1.0167491436004639,3.405033826828003,0.996658980846405,-1.2654218673706055],"sum":107.94711962342262}},
];

describe('heun: diffusers golden lines', () => {
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

describe('heun: more diffusers v0.40.0 runs (Karras per spacing, v_prediction, sample, exponential, 1-50 steps)', () => {
  for (const c of CASES) it(caseTitle(c), () => checkExtraCase(c));
});

describe('heun: schedule invariants', () => {
  for (const spacing of SPACINGS) {
    for (const karras of [false, true]) {
      it(`${spacing}${karras ? ' karras' : ''}: 2N-1 calls, duplicated pairs, final sigma 0, finite run`, () => {
        for (const n of STEP_COUNTS) {
          const s = make({ timestep_spacing: spacing, use_karras_sigmas: karras });
          s.setTimesteps(n);
          expect(s.timesteps.length).toBe(2 * n - 1);
          expect(s.sigmas!.length).toBe(2 * n);
          expect(s.sigmas![2 * n - 1]).toBe(0);
          for (let i = 1; i + 1 < s.timesteps.length; i += 2) {
            expect(s.timesteps[i + 1]).toBe(s.timesteps[i]);
            expect(s.sigmas![i + 1]).toBe(s.sigmas![i]);
          }
          expect(monotoneNonIncreasing(s.timesteps)).toBe(true);
          expect(monotoneNonIncreasing(s.sigmas!)).toBe(true);
          expect([...s.timesteps, ...s.sigmas!, s.initNoiseSigma].every(Number.isFinite)).toBe(true);
          expect(s.timesteps.every((t) => t >= 0 && t <= 999)).toBe(true);
          if (n <= 50) expect(runSynthetic(s, n).final.every(Number.isFinite)).toBe(true);
        }
      });
    }
  }
});

describe('heun: behaviour', () => {
  it('has order 2 and the expected timesteps at 4 leading steps', () => {
    const s = make({ timestep_spacing: 'leading' });
    expect(s.order).toBe(2);
    s.setTimesteps(4);
    expect(s.timesteps).toEqual([751, 501, 501, 251, 251, 1, 1]);
  });

  it('scales the second call of a pair with the duplicated (next) sigma', () => {
    const s = make({ timestep_spacing: 'leading' });
    s.setTimesteps(4);
    const x = Float32Array.from(loadTables().latent_noise_seed1234_float32);
    let cur: Float32Array = x;
    for (let i = 0; i < 3; i++) {
      const t = s.timesteps[i]!;
      const xIn = s.scaleModelInput(cur, t);
      const sigma = s.sigmas![i]!;
      const denom = fround(Math.sqrt(fround(fround(sigma * sigma) + 1)));
      expect(Array.from(xIn)).toEqual(Array.from(cur, (v) => fround(v / denom)));
      if (i === 1) expect(sigma).toBe(s.sigmas![2]); // the 2nd call of the pair (t1, t1) uses s1
      cur = s.step(syntheticModel(xIn, t), t, cur).prevSample;
    }
  });

  it('ends with a plain Euler step to sigma 0: prev_sample is the x0 estimate', () => {
    const s = make({ timestep_spacing: 'trailing' });
    const r = runSynthetic(s, 5);
    const last = r.xs[r.xs.length - 1]!;
    const x0 = r.preds[r.preds.length - 1]!;
    expect(scaledErr(last, x0)).toBeLessThanOrEqual(1e-6);
  });

  it('N = 1: a single Euler call, finite (linspace gives t = 0)', () => {
    for (const spacing of SPACINGS) {
      const s = make({ timestep_spacing: spacing });
      const r = runSynthetic(s, 1);
      expect(s.timesteps.length).toBe(1);
      expect(r.final.every(Number.isFinite)).toBe(true);
    }
    const s = make({ timestep_spacing: 'linspace' });
    s.setTimesteps(1);
    expect(s.timesteps).toEqual([0]);
  });

  it('looks the first index up from the timestep, taking the second of a duplicated pair', () => {
    const s = make({ timestep_spacing: 'leading' });
    s.setTimesteps(4);
    const x = new Float32Array(8).fill(1);
    const xIn = s.scaleModelInput(x, 501); // indices 1 and 2 hold 501: diffusers picks 2
    const sigma = s.sigmas![2]!;
    expect(xIn[0]).toBe(fround(1 / fround(Math.sqrt(fround(fround(sigma * sigma) + 1)))));
  });

  it('add_noise is x0 + noise * sigma[stepIndex] (sigma space, no alpha scaling)', () => {
    const s = make({ timestep_spacing: 'leading' });
    s.setTimesteps(10);
    const x0 = Float32Array.from([0.5, -1, 2, 0]);
    const noise = Float32Array.from([1, 0.25, -3, 7]);
    for (const idx of [0, 3, 4, 18]) {
      const sigma = s.sigmas![idx]!;
      expect(Array.from(s.addNoise(x0, noise, idx))).toEqual(Array.from(x0, (v, i) => fround(v + fround(noise[i]! * sigma))));
    }
  });

  it('img2img starts on the first call of a pair (begin index t_start * 2)', () => {
    const s = make({ timestep_spacing: 'leading' });
    const { beginIndex, timesteps } = img2imgTimesteps(s, 20, 0.6);
    expect(beginIndex).toBe(16);
    expect(timesteps.length).toBe(23);
    expect(timesteps[0]).toBe(551);
  });

  it('rejects use_beta_sigmas and conflicting sigma options', () => {
    expect(() => make({ use_beta_sigmas: true })).toThrow();
    expect(() => make({ use_karras_sigmas: true, use_exponential_sigmas: true })).toThrow();
  });

  it('costs well under 1 ms per model call on a 1x4x64x64 latent', () => {
    const ms = msPerCall();
    console.log(`heun: ${ms.toFixed(3)} ms per call (1x4x64x64)`);
    expect(ms).toBeLessThan(5); // CPU time, so a busy machine does not inflate it; measured ~0.1 ms
  });
});
