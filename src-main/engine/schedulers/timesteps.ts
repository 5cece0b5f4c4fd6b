// The timestep schedules of diffusers' `set_timesteps` (by spacing rule) and the lookup of a timestep's index.

import type { TimestepSpacing } from './config.js';
import { f32 } from './numerics/float32.js';
import { npArange, npLinspace, roundHalfEven } from './numerics/numpy.js';

/**
 * Integer timesteps of DDPM / DDIM / PNDM (`set_timesteps`), high to low:
 * leading `arange(N)*(T//N)` reversed `+ steps_offset`; trailing `round(arange(T, 0, -T/N)) - 1`;
 * linspace `round(linspace(0, T-1, N))` reversed (numpy half-even rounding).
 */
export function intTimesteps(spacing: TimestepSpacing, n: number, numTrain: number, stepsOffset: number): number[] {
  if (spacing === 'linspace') {
    return npLinspace(0, numTrain - 1, n).map(roundHalfEven).reverse();
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(numTrain / n);
    const out: number[] = [];
    for (let i = n - 1; i >= 0; i--) out.push(i * ratio + stepsOffset);
    return out;
  }
  const ratio = numTrain / n;
  return npArange(numTrain, 0, -ratio).map((v) => roundHalfEven(v) - 1);
}

/**
 * Float32 timesteps of the Euler-type schedulers (Euler, EulerA, LMS, Heun) before any sigma conversion:
 * linspace is `np.linspace(0, T-1, N, dtype=float32)` reversed (fractional, e.g. 946.42108), leading and
 * trailing are the integer schedules (leading adds steps_offset, trailing subtracts 1) as float32.
 */
export function floatTimesteps(spacing: TimestepSpacing, n: number, numTrain: number, stepsOffset: number): number[] {
  if (spacing === 'linspace') return npLinspace(0, numTrain - 1, n).map(f32).reverse();
  if (spacing === 'leading') {
    const ratio = Math.floor(numTrain / n);
    const out: number[] = [];
    for (let i = n - 1; i >= 0; i--) out.push(f32(i * ratio + stepsOffset));
    return out;
  }
  const ratio = numTrain / n;
  return npArange(numTrain, 0, -ratio).map((v) => f32(roundHalfEven(v) - 1));
}

/**
 * Integer timesteps of DPM-Solver / UniPC (`set_timesteps` without Karras etc.), `lastTimestep` = T when
 * `lambda_min_clipped` is -inf: linspace `round(linspace(0, last-1, N+1))` reversed without its last entry;
 * leading `arange(N+1)*(last//(N+1))` reversed without its last entry, `+ steps_offset`; trailing
 * `round(arange(last, 0, -T/N)) - 1`.
 */
export function dpmTimesteps(
  spacing: TimestepSpacing,
  n: number,
  numTrain: number,
  stepsOffset: number,
  lastTimestep: number = numTrain,
): number[] {
  if (spacing === 'linspace') {
    return npLinspace(0, lastTimestep - 1, n + 1).map(roundHalfEven).reverse().slice(0, n);
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(lastTimestep / (n + 1));
    const out: number[] = [];
    for (let i = n; i >= 1; i--) out.push(i * ratio + stepsOffset);
    return out;
  }
  const ratio = numTrain / n;
  return npArange(lastTimestep, 0, -ratio).map((v) => roundHalfEven(v) - 1);
}

/**
 * diffusers `index_for_timestep`: the index of `timestep` in `schedule`, the **second** match when it appears
 * more than once (so img2img starting on a duplicated entry does not skip a sigma). Throws if absent.
 */
export function indexForTimestep(schedule: ArrayLike<number>, timestep: number): number {
  let first = -1;
  for (let i = 0; i < schedule.length; i++) {
    if (schedule[i] === timestep) {
      if (first >= 0) return i;
      first = i;
    }
  }
  if (first < 0) throw new Error(`timestep ${timestep} is not in the schedule`);
  return first;
}

/**
 * diffusers' `index_for_timestep` of DPM-Solver / UniPC: the second match when the value appears more than
 * once, the last index when it does not appear at all.
 */
export function indexForTimestepOrLast(schedule: readonly number[], timestep: number): number {
  if (!schedule.includes(timestep)) return schedule.length - 1;
  return indexForTimestep(schedule, timestep);
}
