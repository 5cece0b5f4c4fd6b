// LMSDiscreteScheduler port: diffusers v0.40.0 golden lines (shared sample + fixtures, img2img included), extra
// diffusers runs generated for this test (embedded below), schedule invariants, and the LMS coefficients against
// scipy.integrate.quad's values as diffusers computed them.
import { describe, expect, it } from 'vitest';
import { img2imgTimesteps } from '../../../src-main/engine/schedulers/index.js';
import { LMSDiscreteScheduler } from '../../../src-main/engine/schedulers/lms.js';
import { exactLagrangeIntegral, gaussKronrod21, quadpackQagse } from '../../../src-main/engine/schedulers/multistep-common.js';
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
  SPACINGS,
  STEP_COUNTS,
} from './extra-reference-kit.js';
import { loadTables, syntheticModel } from './golden-harness.js';

const NAME: SchedulerName = 'lms';
const DIFFUSERS_CLASS = 'LMSDiscreteScheduler';
const { make, checkExtraCase, goldenLines, msPerCall } = extraReferenceKit(NAME, DIFFUSERS_CLASS);

// Generated with diffusers v0.40.0 (unmodified, CPU, torch 1.13.1 AVX2, numpy 1.24.2, scipy 1.10.1) by the reference
// procedure: SD 1.5 config + overrides, seed-1234 latent, synthetic model. `final8`/`sum`/`sumSq` are the final sample's
// first 8 values and float64 sums; `img2img` is add_noise at strength 0.6 (seed-99 noise).
const CASES: ExtraCase[] = [
  {"overrides":{"timestep_spacing":"leading","use_karras_sigmas":true},"n":4,"timesteps":[751.0,411.4154052734375,69.40315246582031,1.0],"numCalls":4,"sigmas":[4.116697788238525,1.208777666091919,0.27338719367980957,0.04131447896361351,0.0],"initNoiseSigma":4.236413478851318,"final8":[-0.484409898519516,-1.8648333549499512,0.5011909604072571,-3.246068239212036,0.10961702466011047,2.3135573863983154,-0.2976821959018707,-1.7604881525039673],"sum":-74.85505910590291,"sumSq":3050.0396757647663,"img2img":{"beginIndex":2,"first8":[0.5818688273429871,-0.22252368927001953,0.6977446675300598,0.7293969988822937,0.5875898599624634,0.9924083948135376,0.5841845870018005,0.20075789093971252],"sum":124.6010017991066}},
  {"overrides":{"timestep_spacing":"trailing","use_karras_sigmas":true},"n":4,"timesteps":[999.0,837.1668701171875,593.6463012695312,249.0],"numCalls":4,"sigmas":[14.614645004272461,6.083512783050537,2.233309030532837,0.6932054162025452,0.0],"initNoiseSigma":14.614645004272461,"final8":[-1.236046314239502,-5.506655693054199,1.8131016492843628,-9.779773712158203,0.601691484451294,7.420008182525635,-0.6583679914474487,-5.183843612670898],"sum":-164.36085721850395,"sumSq":29087.806236098993,"img2img":{"beginIndex":2,"first8":[1.1687891483306885,-5.40231990814209,2.1153829097747803,2.3739519119262695,1.215524673461914,4.522500038146973,1.1877065896987915,-1.944518804550171],"sum":100.2334672510624}},
  {"overrides":{"timestep_spacing":"linspace","use_karras_sigmas":true},"n":4,"timesteps":[999.0,687.1532592773438,145.93902587890625,0.0],"numCalls":4,"sigmas":[14.614645004272461,3.1686108112335205,0.44692087173461914,0.029167532920837402,0.0],"initNoiseSigma":14.614645004272461,"final8":[-1.1556427478790283,-5.674252033233643,2.070573568344116,-10.195514678955078,0.7888148427009583,8.003080368041992,-0.5444177985191345,-5.332693576812744],"sum":-134.9468204677105,"sumSq":32517.228700409592,"img2img":{"beginIndex":2,"first8":[0.6338354349136353,-0.6811486482620239,0.823263943195343,0.8750077486038208,0.643187940120697,1.304966688156128,0.6376211047172546,0.0108126699924469],"sum":122.44347307085991}},
  {"overrides":{"timestep_spacing":"leading","use_karras_sigmas":true},"n":20,"timesteps":[951.0,913.7394409179688,873.1348266601562,828.625244140625,779.5436401367188,725.124267578125,664.55517578125,597.1300048828125,522.5737915039062,441.6042785644531,356.6148681640625,272.0289611816406,193.71612548828125,127.39197540283203,76.7376480102539,42.189613342285156,21.151853561401367,9.592665672302246,3.76312518119812,1.0],"numCalls":20,"sigmas":[11.028334617614746,8.979171752929688,7.265432834625244,5.840056419372559,4.661418437957764,3.6928467750549316,2.9021663665771484,2.261272430419922,1.7457302808761597,1.334404468536377,1.0091121196746826,0.7543023228645325,0.5567595362663269,0.4053298830986023,0.2906697392463684,0.20501597225666046,0.1419762820005417,0.0963389128446579,0.06390102952718735,0.04131447896361351,0.0],"initNoiseSigma":11.073579788208008,"final8":[-1.0609111785888672,-4.19753885269165,1.178591012954712,-7.336007118225098,0.2888486981391907,5.296687602996826,-0.6366247534751892,-3.9604430198669434],"sum":-159.90486370027065,"sumSq":15734.187675433606,"img2img":{"beginIndex":8,"first8":[1.0227782726287842,-4.113718032836914,1.762710452079773,1.964828372001648,1.0593104362487793,3.6443030834198,1.0375657081604004,-1.4108284711837769],"sum":106.29549327492714}},
  {"overrides":{"timestep_spacing":"trailing","prediction_type":"v_prediction"},"n":20,"timesteps":[999.0,949.0,899.0,849.0,799.0,749.0,699.0,649.0,599.0,549.0,499.0,449.0,399.0,349.0,299.0,249.0,199.0,149.0,99.0,49.0],"numCalls":20,"sigmas":[14.614645004272461,10.9042387008667,8.302804946899414,6.442956924438477,5.087765216827393,4.081730842590332,3.3210842609405518,2.7354700565338135,2.276463747024536,1.910251498222351,1.6128870248794556,1.3671733140945435,1.1605788469314575,0.9838175773620605,0.8298599720001221,0.6932054162025452,0.5692853927612305,0.45381903648376465,0.34167441725730896,0.2230038195848465,0.0],"initNoiseSigma":14.614645004272461,"final8":[-0.10599041730165482,-0.4359399378299713,0.1295885145664215,-0.7660833597183228,0.035994257777929306,0.5627812743186951,-0.061358630657196045,-0.4109993278980255],"sum":-15.384752630488947,"sumSq":173.92533776262684,"img2img":{"beginIndex":8,"first8":[1.1817123889923096,-5.516371726989746,2.146597385406494,2.4101624488830566,1.2293509244918823,4.6002278327941895,1.2009952068328857,-1.9917547702789307],"sum":99.6969308257103}},
  {"overrides":{"timestep_spacing":"linspace","prediction_type":"v_prediction"},"n":4,"timesteps":[999.0,666.0,333.0,0.0],"numCalls":4,"sigmas":[14.614645004272461,2.9183082580566406,0.9323583245277405,0.029167532920837402,0.0],"initNoiseSigma":14.614645004272461,"final8":[-0.06046773120760918,-0.29870420694351196,0.10962933301925659,-0.5370804667472839,0.042050670832395554,0.4224112331867218,-0.028241882100701332,-0.28069600462913513],"sum":-6.9966649018460885,"sumSq":90.38345500028699,"img2img":{"beginIndex":2,"first8":[0.7792050838470459,-1.9640910625457764,1.1743874549865723,1.2823344469070435,0.7987160682678223,2.179306983947754,0.7871026396751404,-0.5205338001251221],"sum":116.40807205438614}},
  {"overrides":{"timestep_spacing":"leading","prediction_type":"sample"},"n":4,"timesteps":[751.0,501.0,251.0,1.0],"numCalls":4,"sigmas":[4.116697788238525,1.6236928701400757,0.6983985900878906,0.04131447896361351,0.0],"initNoiseSigma":4.236413478851318,"final8":[0.003035668283700943,0.0001503489911556244,0.005095735192298889,-0.002736661583185196,0.00427728146314621,0.008883878588676453,0.003425959497690201,0.00036845356225967407],"sum":0.8798703977372497,"sumSq":0.016253479374690294,"img2img":{"beginIndex":2,"first8":[0.7091432213783264,-1.345768690109253,1.0051612854003906,1.0860207080841064,0.7237582802772522,1.7579129934310913,0.7150590419769287,-0.2644479274749756],"sum":119.3168728351593}},
  {"overrides":{"timestep_spacing":"trailing","use_exponential_sigmas":true},"n":4,"timesteps":[999.0,807.5111694335938,549.7230224609375,249.0],"numCalls":4,"sigmas":[14.614645004272461,5.290290355682373,1.915008544921875,0.6932054162025452,0.0],"initNoiseSigma":14.614645004272461,"final8":[-1.204715609550476,-5.490830421447754,1.8555028438568115,-9.779460906982422,0.6396942138671875,7.4827656745910645,-0.6249399781227112,-5.166845321655273],"sum":-155.78808462619781,"sumSq":29287.911163425684,"img2img":{"beginIndex":2,"first8":[1.0734705924987793,-4.561096668243408,1.885151743888855,2.106868267059326,1.1135451793670654,3.9491968154907227,1.0896917581558228,-1.5961158275604248],"sum":104.19087064266205}},
  {"overrides":{"timestep_spacing":"linspace","use_karras_sigmas":true,"prediction_type":"v_prediction"},"n":50,"timesteps":null,"numCalls":50,"sigmas":null,"initNoiseSigma":14.614645004272461,"final8":[-0.10835036635398865,-0.4386918246746063,0.1275082379579544,-0.7692261338233948,0.0338028259575367,0.5612154006958008,-0.06366575509309769,-0.41372132301330566],"sum":-15.974965785280801,"sumSq":174.4087786005361,"img2img":{"beginIndex":20,"first8":[1.1395902633666992,-5.144628047943115,2.044856309890747,2.2921361923217773,1.184285283088684,4.3468804359436035,1.1576817035675049,-1.8377926349639893],"sum":101.44573831558228}},
  {"overrides":{"timestep_spacing":"leading"},"n":2,"timesteps":[501.0,1.0],"numCalls":2,"sigmas":[1.6236928701400757,0.04131447896361351,0.0],"initNoiseSigma":1.9069291353225708,"final8":[-0.11927253007888794,-0.7895002961158752,0.3592596650123596,-1.460121989250183,0.16914135217666626,1.2392053604125977,-0.028611887246370316,-0.738838255405426],"sum":-6.668423813767731,"sumSq":714.0085876060062,"img2img":{"beginIndex":1,"first8":[0.5123720765113831,0.3908116817474365,0.5298833250999451,0.5346666574478149,0.5132366418838501,0.5744131207466125,0.5127220153808594,0.4547783136367798],"sum":127.48634067177773}},
  {"overrides":{"rescale_betas_zero_snr":true,"prediction_type":"v_prediction","timestep_spacing":"linspace","use_karras_sigmas":true},"n":4,"timesteps":[999.0,687.1532592773438,145.93902587890625,0.0],"numCalls":4,"sigmas":[14.614645004272461,3.1686108112335205,0.44692087173461914,0.029167532920837402,0.0],"initNoiseSigma":14.614645004272461,"final8":[-0.09878670424222946,-0.3050806224346161,0.04850393533706665,-0.5114953517913818,-0.010013868100941181,0.3193483352661133,-0.07088164240121841,-0.28948700428009033],"sum":-17.943723695236258,"sumSq":68.88555049856797,"img2img":{"beginIndex":2,"first8":[0.6338354349136353,-0.6811486482620239,0.823263943195343,0.8750077486038208,0.643187940120697,1.304966688156128,0.6376211047172546,0.0108126699924469],"sum":122.44347307085991}},
];

// scipy.integrate.quad results of diffusers' get_lms_coefficient(order, t, current_order) (float64), SD 1.5.
const QUAD_LEADING_20: [order: number, t: number, currentOrder: number, coeff: number][] = [
  [1, 0, 0, -2.6376476287841797], [2, 1, 0, -2.557337579308529], [2, 1, 1, 0.6730502221261323], [3, 2, 0, -2.180592859626168],
  [3, 2, 1, 1.029481970427764], [3, 2, 2, -0.2208554529532915], [4, 3, 0, -1.7927365342665802], [4, 3, 1, 1.1482333072290285],
  [4, 3, 2, -0.43309404418577196], [4, 3, 3, 0.05986176441660203], [4, 4, 0, -1.372686340048465], [4, 4, 1, 0.9054207090058011],
  [4, 4, 2, -0.3521090611320864], [4, 4, 3, 0.050441424577391765], [4, 5, 0, -1.0703803156926293], [4, 5, 1, 0.7268786070666499],
  [4, 5, 2, -0.2912645374572399], [4, 5, 3, 0.04319850333864739], [4, 6, 0, -0.8498660327133875], [4, 6, 1, 0.5940696755288227],
  [4, 6, 2, -0.24515498320943266], [4, 6, 3, 0.03760939299991386], [4, 7, 0, -0.6869830911297224], [4, 7, 1, 0.4942402378258093],
  [4, 7, 2, -0.20995890592602495], [4, 7, 3, 0.033291025587327355], [4, 8, 0, -0.5652756754240207], [4, 8, 1, 0.4185139987474537],
  [4, 8, 2, -0.18295091007112796], [4, 8, 3, 0.029961430522434218], [4, 9, 0, -0.4734148213874813], [4, 9, 1, 0.3606710027282001],
  [4, 9, 2, -0.16218469545870862], [4, 9, 3, 0.02741510789483102], [4, 10, 0, -0.4035213363458804], [4, 10, 1, 0.3163286278708215],
  [4, 10, 2, -0.14627583919928613], [4, 10, 3, 0.025505555005925294], [4, 11, 0, -0.35010925905205986], [4, 11, 1, 0.28243751696975483],
  [4, 11, 2, -0.13427284143741786], [4, 11, 3, 0.024137430632481915], [4, 12, 0, -0.30939382453755804], [4, 12, 1, 0.25696153454269904],
  [4, 12, 2, -0.12558952199251652], [4, 12, 3, 0.023265737888465747], [4, 13, 0, -0.27890596647473703], [4, 13, 1, 0.23876034257813805],
  [4, 13, 2, -0.1200203433902161], [4, 13, 3, 0.02291130212573281], [4, 14, 0, -0.25738212803419225], [4, 14, 1, 0.22773142655861908],
  [4, 14, 2, -0.11790537386877009], [4, 14, 3, 0.02320820923816927], [4, 15, 0, -0.24514075259900447], [4, 15, 1, 0.22557937904908185],
  [4, 15, 2, -0.12070886852070505], [4, 15, 3, 0.02455265743892394], [4, 16, 0, -0.24600235471663384], [4, 16, 1, 0.23893394698489415],
  [4, 16, 2, -0.13323634350209504], [4, 16, 3, 0.02815892823942997], [4, 17, 0, -0.2780733464301795], [4, 17, 1, 0.29712946755908204],
  [4, 17, 2, -0.17637364645611853], [4, 17, 3, 0.03927753127692913], [4, 18, 0, -0.6539339508392794], [4, 18, 1, 0.9768763381406718],
  [4, 18, 2, -0.6781662139925014], [4, 18, 3, 0.1683910140250355], [4, 19, 0, -0.051658242054365394], [4, 19, 1, 0.02486027165515673],
  [4, 19, 2, -0.020173589397675374], [4, 19, 3, 0.005657079231500972],
];
const QUAD_KARRAS_TRAILING_50: [order: number, t: number, currentOrder: number, coeff: number][] = [
  [1, 0, 0, -0.9892778396606445], [2, 1, 0, -1.3696899237016635], [2, 1, 1, 0.4383745008069483], [3, 2, 0, -1.6136309603475787],
  [3, 2, 1, 1.0436001029334272], [3, 2, 2, -0.30618032208718093], [4, 3, 0, -1.776865620408817], [4, 3, 1, 1.7157055183999075],
  [4, 3, 2, -0.9796414561047284], [4, 3, 3, 0.21695177122382597], [4, 10, 0, -1.127870662742946], [4, 10, 1, 1.0803458730885631],
  [4, 10, 2, -0.6124198304298153], [4, 10, 3, 0.13463843242703263], [4, 30, 0, -0.2447560804620533], [4, 30, 1, 0.2271637323207156],
  [4, 30, 2, -0.12515418939327946], [4, 30, 3, 0.026729077900249955], [4, 48, 0, -0.03990965934737179], [4, 48, 1, 0.035289573176883644],
  [4, 48, 2, -0.018603665261242314], [4, 48, 3, 0.003797778054292101], [4, 49, 0, -4.460522456238556], [4, 49, 1, 9.862420547265696],
  [4, 49, 2, -7.407203287015679], [4, 49, 3, 1.8708546016800125],
];

describe('lms: diffusers golden lines', () => {
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

describe('lms: more diffusers v0.40.0 runs (Karras per spacing, v_prediction, sample, exponential, 1-50 steps)', () => {
  for (const c of CASES) it(caseTitle(c), () => checkExtraCase(c));
});

describe('lms: coefficients (scipy.integrate.quad)', () => {
  function lms(overrides: Record<string, unknown>, n: number): LMSDiscreteScheduler {
    const s = make(overrides) as LMSDiscreteScheduler;
    s.setTimesteps(n);
    return s;
  }

  it('match scipy.integrate.quad bit for bit (leading 20 and Karras trailing 50)', () => {
    const a = lms({ timestep_spacing: 'leading' }, 20);
    for (const [order, t, c, q] of QUAD_LEADING_20) expect(a.lmsCoefficient(order, t, c), `${order}/${t}/${c}`).toBe(q);
    const b = lms({ timestep_spacing: 'trailing', use_karras_sigmas: true }, 50);
    for (const [order, t, c, q] of QUAD_KARRAS_TRAILING_50) expect(b.lmsCoefficient(order, t, c), `${order}/${t}/${c}`).toBe(q);
  });

  it('the exact integral of the Lagrange polynomial differs from quad only by float32 noise (~1e-7)', () => {
    // diffusers evaluates the integrand in float32; the analytic float64 integral is the same number up to that.
    const s = lms({ timestep_spacing: 'leading' }, 20);
    const sig = s.sigmas;
    let worst = 0;
    for (const [order, t, c, q] of QUAD_LEADING_20) {
      const nodes: number[] = [];
      const dens: number[] = [];
      for (let k = 0; k < order; k++) {
        if (k === c) continue;
        nodes.push(sig[t - k]!);
        dens.push(sig[t - c]! - sig[t - k]!);
      }
      const exact = exactLagrangeIntegral(nodes, dens, sig[t]!, sig[t + 1]!);
      worst = Math.max(worst, Math.abs(exact - q) / Math.max(Math.abs(q), 1e-3));
    }
    console.log(`lms: exact Lagrange integral vs scipy quad, max relative difference ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
  });

  it('gaussKronrod21 integrates polynomials up to degree 19 exactly (QUADPACK constants)', () => {
    const r = gaussKronrod21((x) => x ** 19 - 3 * x ** 4 + 1, -0.5, 2);
    const exact = (2 ** 20 - 0.5 ** 20) / 20 - (3 / 5) * (2 ** 5 + 0.5 ** 5) + 2.5;
    expect(Math.abs(r.result - exact) / exact).toBeLessThan(1e-14);
  });

  it('quadpackQagse gives scipy.integrate.quad results, subdivision and extrapolation included', () => {
    // scipy 1.10.1 quad(f, a, b) with its defaults: [result, number of subintervals]
    const cases: [(x: number) => number, number, number, number, number][] = [
      [(x) => Math.sqrt(x), 0, 1, 0.6666666666666669, 6],
      [(x) => (x > 0 ? Math.log(x) : 0), 0, 1, -0.9999999999999999, 6],
      [(x) => 1 / (1 + x * x), 0, 10, 1.4711276743037354, 3],
      [(x) => Math.sin(50 * x), 0, 3, 0.006014983870432575, 16],
      [(x) => 1 / Math.sqrt(x), 0, 1, 1.9999999999999984, 6],
    ];
    for (const [f, a, b, result, last] of cases) {
      const q = quadpackQagse(f, a, b);
      expect(q.result).toBe(result);
      expect(q.last).toBe(last);
      expect(q.ier).toBe(0);
    }
  });

  it('matches quad where it subdivides (float32 noise fails its first error test; only at ~500+ steps)', () => {
    // trailing, 1000 steps: quad used 6 subintervals for t = 624 and 3 for t = 628 (diffusers' values)
    const s = lms({ timestep_spacing: 'trailing' }, 1000);
    expect(s.lmsCoefficient(4, 624, 2)).toBe(-0.005381194060343887);
    expect(s.lmsCoefficient(4, 624, 3)).toBe(0.0013030403494318243);
    expect(s.lmsCoefficient(4, 628, 2)).toBe(-0.0053186693273705385);
    expect(s.lmsCoefficient(4, 628, 3)).toBe(0.0012880300322880853);
    const l = lms({ timestep_spacing: 'linspace' }, 999);
    expect(l.lmsCoefficient(4, 428, 2)).toBe(-0.010880339721515095);
    expect(l.lmsCoefficient(4, 428, 3)).toBe(0.002629093227529584);
  });

  it('warms up the order: 1, 2, 3, 4, 4, ... derivatives', () => {
    const s = lms({ timestep_spacing: 'leading' }, 6);
    // the coefficients of each order sum to sigma_{t+1} - sigma_t (they integrate a partition of unity)
    for (let t = 0; t < 6; t++) {
      const order = Math.min(t + 1, 4);
      let sum = 0;
      for (let c = 0; c < order; c++) sum += s.lmsCoefficient(order, t, c);
      expect(Math.abs(sum - (s.sigmas[t + 1]! - s.sigmas[t]!))).toBeLessThan(1e-5);
    }
  });
});

describe('lms: schedule invariants', () => {
  for (const spacing of SPACINGS) {
    for (const karras of [false, true]) {
      it(`${spacing}${karras ? ' karras' : ''}: N calls, N+1 sigmas ending in 0, finite run`, () => {
        for (const n of STEP_COUNTS) {
          const s = make({ timestep_spacing: spacing, use_karras_sigmas: karras });
          s.setTimesteps(n);
          expect(s.timesteps.length).toBe(n);
          expect(s.sigmas!.length).toBe(n + 1);
          expect(s.sigmas![n]).toBe(0);
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

describe('lms: behaviour', () => {
  it('init_noise_sigma: sqrt(max^2 + 1) for leading, max for trailing/linspace', () => {
    const lead = make({ timestep_spacing: 'leading' });
    lead.setTimesteps(4);
    expect(lead.initNoiseSigma).toBe(fround(4.2364135));
    const trail = make({ timestep_spacing: 'trailing' });
    trail.setTimesteps(4);
    expect(trail.initNoiseSigma).toBe(fround(14.614645));
  });

  it('N = 1 is finite for every spacing', () => {
    for (const spacing of SPACINGS) expect(runSynthetic(make({ timestep_spacing: spacing }), 1).final.every(Number.isFinite)).toBe(true);
  });

  it('add_noise is x0 + noise * sigma[stepIndex]', () => {
    const s = make({ timestep_spacing: 'trailing' });
    s.setTimesteps(10);
    const x0 = Float32Array.from([0.5, -1, 2, 0]);
    const noise = Float32Array.from([1, 0.25, -3, 7]);
    for (const idx of [0, 4, 9]) {
      const sigma = s.sigmas![idx]!;
      expect(Array.from(s.addNoise(x0, noise, idx))).toEqual(Array.from(x0, (v, i) => fround(v + fround(noise[i]! * sigma))));
    }
  });

  it('after set_begin_index the window holds fewer derivatives than the order (zip stops early, as diffusers)', () => {
    const s = make({ timestep_spacing: 'leading' });
    const { beginIndex } = img2imgTimesteps(s, 20, 0.6);
    expect(beginIndex).toBe(8);
    const x = Float32Array.from(loadTables().latent_noise_seed1234_float32);
    const t = s.timesteps[beginIndex]!;
    const eps = syntheticModel(s.scaleModelInput(x, t), t);
    const r = s.step(eps, t, x);
    // order min(8 + 1, 4) = 4: its coefficient 0 times the only derivative
    const sigma = s.sigmas![8]!;
    const c0 = fround((s as LMSDiscreteScheduler).lmsCoefficient(4, 8, 0));
    const expected = Array.from(x, (v, i) => fround(v + fround(c0 * fround(fround(v - fround(v - fround(sigma * eps[i]!))) / sigma))));
    expect(Array.from(r.prevSample)).toEqual(expected);
  });

  it('rejects use_beta_sigmas', () => {
    expect(() => make({ use_beta_sigmas: true })).toThrow();
  });

  it('costs well under 1 ms per step on a 1x4x64x64 latent', () => {
    const ms = msPerCall();
    console.log(`lms: ${ms.toFixed(3)} ms per step (1x4x64x64)`);
    expect(ms).toBeLessThan(5); // CPU time, so a busy machine does not inflate it; measured ~0.2 ms
  });
});
