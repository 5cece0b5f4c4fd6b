// Small PNGs with hand-written text chunks (through the engine's PNG writer) for the gallery tests.
import { encodePng, type PngTextEntry } from '../../src-main/engine/image/png.js';

/** A w×h RGB PNG (a flat colour from `seed`) with the given text chunks. */
export function tinyPng(text: readonly PngTextEntry[] = [], w = 8, h = 8, seed = 1): Promise<Uint8Array> {
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < px.length; i += 3) {
    px[i] = (seed * 37) & 255;
    px[i + 1] = (seed * 91) & 255;
    px[i + 2] = (i / 3 + seed) & 255;
  }
  return encodePng(px, w, h, 3, text);
}

export function a1111Text(prompt: string, seed: number | string, extra = ''): string {
  return `${prompt}\nNegative prompt: blurry, lowres\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: ${seed}, Size: 8x8, Model: sd15${extra}`;
}

/** A PNG like the engine writes (parameters + latent-studio JSON). */
export function ourPng(prompt: string, seed: number, model = 'tiny-sd15', w = 8, h = 8): Promise<Uint8Array> {
  return tinyPng(
    [
      { keyword: 'parameters', text: `${prompt}\nNegative prompt: ugly\nSteps: 3, Sampler: Euler, CFG scale: 7.5, Seed: ${seed}, Size: ${w}x${h}, Model: ${model}` },
      {
        keyword: 'latent-studio',
        text: JSON.stringify({ prompt, negativePrompt: 'ugly', steps: 3, cfgScale: 7.5, seed: String(seed), width: w, height: h, sampler: 'euler', model }),
        international: true,
      },
    ],
    w,
    h,
    seed,
  );
}
