// scipy.integrate.quad's QUADPACK routines (dqk21, dqagse with dqpsrt/dqelg), a statement-for-statement float64
// port, so LMS's coefficients equal scipy's to the last bit.

// QUADPACK dqk21: 21-point Kronrod abscissae/weights and the 10-point Gauss weights.
const XGK = [
  0.995657163025808080735527280689003, 0.973906528517171720077964012084452, 0.930157491355708226001207180059508,
  0.865063366688984510732096688423493, 0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
  0.562757134668604683339000099272694, 0.433395394129247190799265943165784, 0.294392862701460198131126603103866,
  0.14887433898163121088482600112972, 0.0,
];
const WGK = [
  0.011694638867371874278064396062192, 0.03255816230796472747881897245939, 0.05475589657435199603138130024458,
  0.07503967481091995276704314091619, 0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
  0.123491976262065851077958109831074, 0.134709217311473325928054001771707, 0.142775938577060080797094273138717,
  0.147739104901338491374841515972068, 0.149445554002916905664936468389821,
];
const WG = [
  0.066671344308688137593568809893332, 0.149451349150580593145776339657697, 0.219086362515982043995534934228163,
  0.269266719309996355091226921569469, 0.295524224714752870173892994651338,
];
const EPMACH = 2.220446049250313e-16;
const UFLOW = 2.2250738585072014e-308;

export interface GK21Result {
  result: number;
  abserr: number;
  resabs: number;
  resasc: number;
}

/** QUADPACK's dqk21 on [a, b] (float64, same operation order as the Fortran). */
export function gaussKronrod21(f: (x: number) => number, a: number, b: number): GK21Result {
  const centr = 0.5 * (a + b);
  const hlgth = 0.5 * (b - a);
  const dhlgth = Math.abs(hlgth);
  let resg = 0;
  const fc = f(centr);
  let resk = WGK[10]! * fc;
  let resabs = Math.abs(resk);
  const fv1 = new Array<number>(10);
  const fv2 = new Array<number>(10);
  for (let j = 1; j <= 5; j++) {
    const jtw = 2 * j - 1; // 0-based index of Fortran's xgk(2j)
    const absc = hlgth * XGK[jtw]!;
    const fval1 = f(centr - absc);
    const fval2 = f(centr + absc);
    fv1[jtw] = fval1;
    fv2[jtw] = fval2;
    const fsum = fval1 + fval2;
    resg = resg + WG[j - 1]! * fsum;
    resk = resk + WGK[jtw]! * fsum;
    resabs = resabs + WGK[jtw]! * (Math.abs(fval1) + Math.abs(fval2));
  }
  for (let j = 1; j <= 5; j++) {
    const jtwm1 = 2 * j - 2; // Fortran's xgk(2j-1)
    const absc = hlgth * XGK[jtwm1]!;
    const fval1 = f(centr - absc);
    const fval2 = f(centr + absc);
    fv1[jtwm1] = fval1;
    fv2[jtwm1] = fval2;
    const fsum = fval1 + fval2;
    resk = resk + WGK[jtwm1]! * fsum;
    resabs = resabs + WGK[jtwm1]! * (Math.abs(fval1) + Math.abs(fval2));
  }
  const reskh = resk * 0.5;
  let resasc = WGK[10]! * Math.abs(fc - reskh);
  for (let j = 0; j < 10; j++) resasc = resasc + WGK[j]! * (Math.abs(fv1[j]! - reskh) + Math.abs(fv2[j]! - reskh));
  const result = resk * hlgth;
  resabs = resabs * dhlgth;
  resasc = resasc * dhlgth;
  let abserr = Math.abs((resk - resg) * hlgth);
  if (resasc !== 0 && abserr !== 0) abserr = resasc * Math.min(1, (200 * abserr / resasc) ** 1.5);
  if (resabs > UFLOW / (50 * EPMACH)) abserr = Math.max(EPMACH * 50 * resabs, abserr);
  return { result, abserr, resabs, resasc };
}

const OFLOW = Number.MAX_VALUE;

export interface QuadResult {
  result: number;
  abserr: number;
  /** QUADPACK's ier (0 = converged). */
  ier: number;
  /** Number of subintervals used (1 = the first 21-point estimate was accepted). */
  last: number;
}

/** QUADPACK dqpsrt: keeps iord (1-based) sorted by decreasing error; returns the new maxerr/errmax/nrmax. */
function dqpsrt(limit: number, last: number, maxerr: number, elist: Float64Array, iord: Int32Array, nrmaxIn: number): [number, number, number] {
  let nrmax = nrmaxIn;
  if (last <= 2) {
    iord[1] = 1;
    iord[2] = 2;
  } else {
    const errmax = elist[maxerr]!;
    if (nrmax !== 1) {
      const ido = nrmax - 1;
      for (let i = 1; i <= ido; i++) {
        const isucc = iord[nrmax - 1]!;
        if (errmax <= elist[isucc]!) break;
        iord[nrmax] = isucc;
        nrmax--;
      }
    }
    let jupbn = last;
    if (last > Math.trunc(limit / 2) + 2) jupbn = limit + 3 - last;
    const errmin = elist[last]!;
    const jbnd = jupbn - 1;
    const ibeg = nrmax + 1;
    let found = -1;
    for (let i = ibeg; i <= jbnd; i++) {
      const isucc = iord[i]!;
      if (errmax >= elist[isucc]!) {
        found = i;
        break;
      }
      iord[i - 1] = isucc;
    }
    if (found < 0) {
      iord[jbnd] = maxerr;
      iord[jupbn] = last;
    } else {
      const i = found;
      iord[i - 1] = maxerr;
      let k = jbnd;
      let placed = false;
      for (let j = i; j <= jbnd; j++) {
        const isucc = iord[k]!;
        if (errmin < elist[isucc]!) {
          iord[k + 1] = last;
          placed = true;
          break;
        }
        iord[k + 1] = isucc;
        k--;
      }
      if (!placed) iord[i] = last;
    }
  }
  const newMax = iord[nrmax]!;
  return [newMax, elist[newMax]!, nrmax];
}

/** QUADPACK dqelg: the epsilon algorithm on epstab[1..n] (1-based). Returns [n, result, abserr, nres]. */
function dqelg(nIn: number, epstab: Float64Array, res3la: Float64Array, nresIn: number): [number, number, number, number] {
  let n = nIn;
  const nres = nresIn + 1;
  let abserr = OFLOW;
  let result = epstab[n]!;
  if (n >= 3) {
    const limexp = 50;
    epstab[n + 2] = epstab[n]!;
    const newelm = Math.trunc((n - 1) / 2);
    epstab[n] = OFLOW;
    const num = n;
    let k1 = n;
    let converged = false;
    for (let i = 1; i <= newelm; i++) {
      const k2 = k1 - 1;
      const k3 = k1 - 2;
      let res = epstab[k1 + 2]!;
      const e0 = epstab[k3]!;
      const e1 = epstab[k2]!;
      const e2 = res;
      const e1abs = Math.abs(e1);
      const delta2 = e2 - e1;
      const err2 = Math.abs(delta2);
      const tol2 = Math.max(Math.abs(e2), e1abs) * EPMACH;
      const delta3 = e1 - e0;
      const err3 = Math.abs(delta3);
      const tol3 = Math.max(e1abs, Math.abs(e0)) * EPMACH;
      if (!(err2 > tol2 || err3 > tol3)) {
        result = res;
        abserr = err2 + err3;
        converged = true;
        break;
      }
      const e3 = epstab[k1]!;
      epstab[k1] = e1;
      const delta1 = e1 - e3;
      const err1 = Math.abs(delta1);
      const tol1 = Math.max(e1abs, Math.abs(e3)) * EPMACH;
      if (err1 <= tol1 || err2 <= tol2 || err3 <= tol3) {
        n = i + i - 1;
        break;
      }
      const ss = 1 / delta1 + 1 / delta2 - 1 / delta3;
      const epsinf = Math.abs(ss * e1);
      if (!(epsinf > 1e-4)) {
        n = i + i - 1;
        break;
      }
      res = e1 + 1 / ss;
      epstab[k1] = res;
      k1 = k1 - 2;
      const error = err2 + Math.abs(res - e2) + err3;
      if (!(error > abserr)) {
        abserr = error;
        result = res;
      }
    }
    if (!converged) {
      if (n === limexp) n = 2 * Math.trunc(limexp / 2) - 1;
      let ib = num % 2 === 0 ? 2 : 1;
      const ie = newelm + 1;
      for (let i = 1; i <= ie; i++) {
        const ib2 = ib + 2;
        epstab[ib] = epstab[ib2]!;
        ib = ib2;
      }
      if (num !== n) {
        let indx = num - n + 1;
        for (let i = 1; i <= n; i++) {
          epstab[i] = epstab[indx]!;
          indx++;
        }
      }
      if (nres < 4) {
        res3la[nres] = result;
        abserr = OFLOW;
      } else {
        abserr = Math.abs(result - res3la[3]!) + Math.abs(result - res3la[2]!) + Math.abs(result - res3la[1]!);
        res3la[1] = res3la[2]!;
        res3la[2] = res3la[3]!;
        res3la[3] = result;
      }
    }
  }
  abserr = Math.max(abserr, 5 * EPMACH * Math.abs(result));
  return [n, result, abserr, nres];
}

/**
 * QUADPACK dqagse, which `scipy.integrate.quad(f, a, b)` runs for a finite interval (scipy 1.10: epsabs 1.49e-8,
 * limit 50): the 21-point Gauss-Kronrod estimate, accepted when its error estimate meets
 * max(epsabs, epsrel*|result|); otherwise adaptive bisection with Wynn's epsilon extrapolation. A statement for
 * statement port (same float64 operations and order), so it returns scipy's numbers.
 */
export function quadpackQagse(f: (x: number) => number, a: number, b: number, epsabs = 1.49e-8, epsrel = 1.49e-8, limit = 50): QuadResult {
  const alist = new Float64Array(limit + 2);
  const blist = new Float64Array(limit + 2);
  const rlist = new Float64Array(limit + 2);
  const elist = new Float64Array(limit + 2);
  const iord = new Int32Array(limit + 2);
  const rlist2 = new Float64Array(56);
  const res3la = new Float64Array(4);
  let ier = 0;
  alist[1] = a;
  blist[1] = b;
  if (epsabs <= 0 && epsrel < Math.max(50 * EPMACH, 0.5e-28)) return { result: 0, abserr: 0, ier: 6, last: 0 };
  let ierro = 0;
  const first = gaussKronrod21(f, a, b);
  let result = first.result;
  let abserr = first.abserr;
  const defabs = first.resabs;
  const resasc = first.resasc; // dqagse's "resabs"
  const dres = Math.abs(result);
  let errbnd = Math.max(epsabs, epsrel * dres);
  let last = 1;
  rlist[1] = result;
  elist[1] = abserr;
  iord[1] = 1;
  if (abserr <= 100 * EPMACH * defabs && abserr > errbnd) ier = 2;
  if (limit === 1) ier = 1;
  if (ier !== 0 || (abserr <= errbnd && abserr !== resasc) || abserr === 0) return { result, abserr, ier, last };

  rlist2[1] = result;
  let errmax = abserr;
  let maxerr = 1;
  let area = result;
  let errsum = abserr;
  abserr = OFLOW;
  let nrmax = 1;
  let nres = 0;
  let numrl2 = 2;
  let ktmin = 0;
  let extrap = false;
  let noext = false;
  let iroff1 = 0;
  let iroff2 = 0;
  let iroff3 = 0;
  const ksgn = dres >= (1 - 50 * EPMACH) * defabs ? 1 : -1;
  let small = 0;
  let erlarg = 0;
  let ertest = 0;
  let correc = 0;
  let sumAll = false; // label 115 (sum of rlist) rather than label 100
  for (last = 2; last <= limit; last++) {
    const a1 = alist[maxerr]!;
    const b1 = 0.5 * (alist[maxerr]! + blist[maxerr]!);
    const a2 = b1;
    const b2 = blist[maxerr]!;
    const erlast = errmax;
    const k1 = gaussKronrod21(f, a1, b1);
    const k2 = gaussKronrod21(f, a2, b2);
    const area1 = k1.result;
    const error1 = k1.abserr;
    const defab1 = k1.resasc;
    const area2 = k2.result;
    const error2 = k2.abserr;
    const defab2 = k2.resasc;
    const area12 = area1 + area2;
    const erro12 = error1 + error2;
    errsum = errsum + erro12 - errmax;
    area = area + area12 - rlist[maxerr]!;
    if (!(defab1 === error1 || defab2 === error2)) {
      if (!(Math.abs(rlist[maxerr]! - area12) > 1e-5 * Math.abs(area12) || erro12 < 0.99 * errmax)) {
        if (extrap) iroff2++;
        else iroff1++;
      }
      if (last > 10 && erro12 > errmax) iroff3++;
    }
    rlist[maxerr] = area1;
    rlist[last] = area2;
    errbnd = Math.max(epsabs, epsrel * Math.abs(area));
    if (iroff1 + iroff2 >= 10 || iroff3 >= 20) ier = 2;
    if (iroff2 >= 5) ierro = 3;
    if (last === limit) ier = 1;
    if (Math.max(Math.abs(a1), Math.abs(b2)) <= (1 + 100 * EPMACH) * (Math.abs(a2) + 1000 * UFLOW)) ier = 4;
    if (error2 > error1) {
      alist[maxerr] = a2;
      alist[last] = a1;
      blist[last] = b1;
      rlist[maxerr] = area2;
      rlist[last] = area1;
      elist[maxerr] = error2;
      elist[last] = error1;
    } else {
      alist[last] = a2;
      blist[maxerr] = b1;
      blist[last] = b2;
      elist[maxerr] = error1;
      elist[last] = error2;
    }
    [maxerr, errmax, nrmax] = dqpsrt(limit, last, maxerr, elist, iord, nrmax);
    if (errsum <= errbnd) {
      sumAll = true;
      break;
    }
    if (ier !== 0) break;
    if (last === 2) {
      small = Math.abs(b - a) * 0.375;
      erlarg = errsum;
      ertest = errbnd;
      rlist2[2] = area;
      continue;
    }
    if (noext) continue;
    erlarg = erlarg - erlast;
    if (Math.abs(b1 - a1) > small) erlarg = erlarg + erro12;
    if (!extrap) {
      if (Math.abs(blist[maxerr]! - alist[maxerr]!) > small) continue;
      extrap = true;
      nrmax = 2;
    }
    if (!(ierro === 3 || erlarg <= ertest)) {
      const id = nrmax;
      let jupbnd = last;
      if (last > 2 + Math.trunc(limit / 2)) jupbnd = limit + 3 - last;
      let larger = false;
      for (let k = id; k <= jupbnd; k++) {
        maxerr = iord[nrmax]!;
        errmax = elist[maxerr]!;
        if (Math.abs(blist[maxerr]! - alist[maxerr]!) > small) {
          larger = true;
          break;
        }
        nrmax++;
      }
      if (larger) continue;
    }
    numrl2++;
    rlist2[numrl2] = area;
    let reseps: number;
    let abseps: number;
    [numrl2, reseps, abseps, nres] = dqelg(numrl2, rlist2, res3la, nres);
    ktmin++;
    if (ktmin > 5 && abserr < 1e-3 * errsum) ier = 5;
    if (!(abseps >= abserr)) {
      ktmin = 0;
      abserr = abseps;
      result = reseps;
      correc = erlarg;
      ertest = Math.max(epsabs, epsrel * Math.abs(reseps));
      if (abserr <= ertest) break;
    }
    if (numrl2 === 1) noext = true;
    if (ier === 5) break;
    maxerr = iord[1]!;
    errmax = elist[maxerr]!;
    nrmax = 1;
    extrap = false;
    small = small * 0.5;
    erlarg = errsum;
  }
  if (last > limit) last = limit;
  if (!sumAll) {
    // label 100
    let to: 110 | 115 | 130 = 110;
    if (abserr === OFLOW) to = 115;
    else if (ier + ierro !== 0) {
      if (ierro === 3) abserr = abserr + correc;
      if (ier === 0) ier = 3;
      if (result !== 0 && area !== 0) to = abserr / Math.abs(result) > errsum / Math.abs(area) ? 115 : 110;
      else if (abserr > errsum) to = 115;
      else if (area === 0) to = 130;
    }
    if (to === 110) {
      if (!(ksgn === -1 && Math.max(Math.abs(result), Math.abs(area)) <= defabs * 0.01)) {
        if (0.01 > result / area || result / area > 100 || errsum > Math.abs(area)) ier = 6;
      }
    }
    if (to !== 115) return { result, abserr, ier: ier > 2 ? ier - 1 : ier, last };
  }
  // label 115: the sum over the subintervals
  result = 0;
  for (let k = 1; k <= last; k++) result = result + rlist[k]!;
  return { result, abserr: errsum, ier: ier > 2 ? ier - 1 : ier, last };
}
