// Scheduler configuration: diffusers' defaults merged with a model's scheduler_config.json, typed reads of its
// snake_case keys, and the validations several schedulers share (with diffusers' error messages).

import { f32 } from './numerics/float32.js';
import type { SchedulerConfig } from './types.js';

/** Keys of diffusers' config files that are bookkeeping, not settings. */
const IGNORED_KEYS = new Set(['_class_name', '_diffusers_version', '_use_default_values', '_name_or_path']);

/**
 * The scheduler's diffusers defaults with the model's `scheduler_config.json` merged over (snake_case, as-is).
 * Keys starting with `_` (`_class_name`, `_diffusers_version`, ...) are dropped; unknown keys are kept (and
 * ignored by the scheduler); `undefined` values in `userConfig` do not override a default. `null` does
 * (diffusers passes `None` through, e.g. `trained_betas: null`).
 */
export function resolveConfig<T extends SchedulerConfig>(defaults: T, userConfig?: SchedulerConfig): T & SchedulerConfig {
  const out: SchedulerConfig = { ...defaults };
  if (userConfig) {
    for (const [k, v] of Object.entries(userConfig)) {
      if (IGNORED_KEYS.has(k) || k.startsWith('_') || v === undefined) continue;
      out[k] = v;
    }
  }
  return out as T & SchedulerConfig;
}

/** Read a numeric config key (numbers or numeric strings), falling back to `fallback`. */
export function cfgNumber(config: SchedulerConfig, key: string, fallback: number): number {
  const v = config[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return fallback;
}

/** Read a boolean config key (`null`/missing gives `fallback`). */
export function cfgBool(config: SchedulerConfig, key: string, fallback: boolean): boolean {
  const v = config[key];
  return typeof v === 'boolean' ? v : fallback;
}

/** Read a string config key (`null`/missing gives `fallback`). */
export function cfgString(config: SchedulerConfig, key: string, fallback: string): string {
  const v = config[key];
  return typeof v === 'string' ? v : fallback;
}

/** diffusers' SD 1.x scheduler_config.json, handy in tests and as the engine's fallback. */
export const SD15_SCHEDULER_CONFIG: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  steps_offset: 1,
  set_alpha_to_one: false,
  clip_sample: false,
  prediction_type: 'epsilon',
});

export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

/** Validate `timestep_spacing` (throws like diffusers on unknown values). */
export function timestepSpacingOf(config: SchedulerConfig, fallback: TimestepSpacing): TimestepSpacing {
  const s = cfgString(config, 'timestep_spacing', fallback);
  if (s !== 'leading' && s !== 'trailing' && s !== 'linspace') {
    throw new Error(`${s} is not supported. Please make sure to choose one of 'linspace', 'leading' or 'trailing'.`);
  }
  return s;
}

/** Throw a diffusers-like error for an unsupported prediction type. */
export function predictionTypeOf(config: SchedulerConfig, allowed: readonly PredictionType[]): PredictionType {
  const p = cfgString(config, 'prediction_type', 'epsilon');
  if (!(allowed as readonly string[]).includes(p)) {
    throw new Error(`prediction_type given as ${p} must be one of ${allowed.map((a) => `\`${a}\``).join(', ')}`);
  }
  return p as PredictionType;
}

/** Throw for a config flag this port does not implement. */
export function rejectUnsupported(config: SchedulerConfig, who: string, checks: Array<[key: string, ok: (v: unknown) => boolean]>): void {
  for (const [key, ok] of checks) {
    const v = config[key];
    if (!ok(v)) throw new Error(`${who}: ${key}=${JSON.stringify(v)} is not supported`);
  }
}

/** For `rejectUnsupported`: the value is false, null or absent. */
export const isOff = (v: unknown): boolean => v === undefined || v === null || v === false;

/** diffusers' check that at most one of the sigma spacings (Karras, exponential, beta) is switched on. */
export function assertOneSigmaSpacing(config: SchedulerConfig): void {
  const flags = [cfgBool(config, 'use_karras_sigmas', false), cfgBool(config, 'use_exponential_sigmas', false), cfgBool(config, 'use_beta_sigmas', false)];
  if (flags.filter(Boolean).length > 1) {
    throw new Error('Only one of `config.use_beta_sigmas`, `config.use_exponential_sigmas`, `config.use_karras_sigmas` can be used.');
  }
}

export type FinalSigmasType = 'zero' | 'sigma_min';

/** Validate `final_sigmas_type` (the sigma appended after the last step). */
export function finalSigmasTypeOf(config: SchedulerConfig): FinalSigmasType {
  const finalType = cfgString(config, 'final_sigmas_type', 'zero');
  if (finalType !== 'zero' && finalType !== 'sigma_min') {
    throw new Error(`\`final_sigmas_type\` must be one of 'zero', or 'sigma_min', but got ${finalType}`);
  }
  return finalType;
}

/** The float32 bound of `clip_sample` (`clip_sample_range`), or null when clipping is off. */
export function sampleClipRangeOf(config: SchedulerConfig, clipByDefault: boolean): number | null {
  return cfgBool(config, 'clip_sample', clipByDefault) ? f32(cfgNumber(config, 'clip_sample_range', 1.0)) : null;
}

/** Throw unless `numInferenceSteps` is a positive integer (and at most `max` when given). */
export function assertStepCount(numInferenceSteps: number, who: string, max?: number): void {
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) throw new Error(`${who}: invalid numInferenceSteps ${numInferenceSteps}`);
  if (max !== undefined && numInferenceSteps > max) throw new Error(`num_inference_steps ${numInferenceSteps} cannot be larger than ${max}`);
}
