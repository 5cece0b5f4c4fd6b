// The generation panel's settings. Size is not here: the canvas (StudioDocument) decides it.
import { SAMPLER_NAMES, type SamplerName } from '@shared/generation-limits.js';

export type SeedMode = 'random' | 'fixed';

/** The sampler choices: '' (the model's own scheduler), then the request contract's names. */
export const SAMPLERS: readonly (SamplerName | '')[] = ['', ...SAMPLER_NAMES];

export class GenerationSettings {
  prompt = $state('');
  negativePrompt = $state('');
  /** Model id from listModels. */
  model = $state('');
  /** '' = the model's own scheduler. */
  sampler = $state<SamplerName | ''>('');
  steps = $state(20);
  cfgScale = $state(7);
  seedMode = $state<SeedMode>('random');
  /** Decimal string (seeds go up to 2^64-1). */
  seed = $state('0');
  /** Seed of the last result, for "reuse last". */
  lastSeed = $state<string | null>(null);
  strength = $state(0.75);
  maskBlur = $state(4);
  inpaintOnlyMasked = $state(false);
  inpaintPadding = $state(32);
  batchCount = $state(1);

  reuseLastSeed(): void {
    if (this.lastSeed === null) return;
    this.seed = this.lastSeed;
    this.seedMode = 'fixed';
  }

  /** The seed to send: -1 (the engine picks one) or the fixed decimal string. */
  requestSeed(): string | number {
    if (this.seedMode === 'random') return -1;
    const s = this.seed.trim();
    return /^\d+$/.test(s) ? s : -1;
  }
}
