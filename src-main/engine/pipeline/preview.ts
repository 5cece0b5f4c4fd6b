// Cheap live previews: latent → RGB with a per-pixel linear map (ComfyUI comfy/latent_formats.py).

/** rows = latent channels 0..3, columns = R, G, B; plus a bias per RGB channel. */
export interface LatentRgbFactors {
  factors: readonly (readonly [number, number, number])[];
  bias: readonly [number, number, number];
}

/** SD 1.x / 2.x (ComfyUI SD15 latent format, no bias). */
export const SD15_LATENT_RGB: LatentRgbFactors = {
  factors: [
    [0.3512, 0.2297, 0.3227],
    [0.325, 0.4974, 0.235],
    [-0.2829, 0.1762, 0.2721],
    [-0.212, -0.2616, -0.7177],
  ],
  bias: [0, 0, 0],
};

/** SDXL (ComfyUI SDXL latent format). */
export const SDXL_LATENT_RGB: LatentRgbFactors = {
  factors: [
    [0.3651, 0.4232, 0.4341],
    [-0.2533, -0.0042, 0.1068],
    [0.1076, 0.1111, -0.0362],
    [-0.3165, -0.2492, -0.2188],
  ],
  bias: [0.1084, -0.0175, -0.0011],
};

/** The factor set for a VAE scaling factor (0.13025 → SDXL, anything else → SD1/2). */
export function latentRgbFactorsFor(vaeScalingFactor: number): LatentRgbFactors {
  return Math.abs(vaeScalingFactor - 0.13025) < 1e-6 ? SDXL_LATENT_RGB : SD15_LATENT_RGB;
}

/**
 * A [1,4,h,w] latent (model space, i.e. already × scaling factor — the sampler's x0 estimate) to an
 * h × w RGBA image: v = Σ_c x_c·F[c] + bias, clamp to [−1, 1], (v + 1)·127.5, rounded.
 */
export function latentToRgba(latent: Float32Array, h: number, w: number, table: LatentRgbFactors = SD15_LATENT_RGB): Uint8Array {
  const n = h * w;
  const out = new Uint8Array(n * 4);
  const F = table.factors;
  const [b0, b1, b2] = table.bias;
  const f0 = F[0]!;
  const f1 = F[1]!;
  const f2 = F[2]!;
  const f3 = F[3]!;
  for (let i = 0; i < n; i++) {
    const x0 = latent[i]!;
    const x1 = latent[n + i]!;
    const x2 = latent[2 * n + i]!;
    const x3 = latent[3 * n + i]!;
    const r = x0 * f0[0]! + x1 * f1[0]! + x2 * f2[0]! + x3 * f3[0]! + b0;
    const g = x0 * f0[1]! + x1 * f1[1]! + x2 * f2[1]! + x3 * f3[1]! + b1;
    const b = x0 * f0[2]! + x1 * f1[2]! + x2 * f2[2]! + x3 * f3[2]! + b2;
    out[i * 4] = Math.round((Math.min(1, Math.max(-1, r)) + 1) * 127.5);
    out[i * 4 + 1] = Math.round((Math.min(1, Math.max(-1, g)) + 1) * 127.5);
    out[i * 4 + 2] = Math.round((Math.min(1, Math.max(-1, b)) + 1) * 127.5);
    out[i * 4 + 3] = 255;
  }
  return out;
}

/**
 * A decoded [B,3,H,W] image in ≈[−1, 1] (image `index`) to 8-bit RGBA (alpha 255), as diffusers:
 * clamp(x/2 + 0.5, 0, 1)·255, rounded. NaN maps to 0.
 */
export function decodedToRgba(pixels: Float32Array, index: number, height: number, width: number): Uint8Array {
  const n = height * width;
  const base = index * 3 * n;
  const out = new Uint8Array(n * 4);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const off = base + c * n;
    for (let i = 0; i < n; i++) {
      const v = f(f(pixels[off + i]! / 2) + 0.5);
      out[i * 4 + c] = v > 0 ? (v < 1 ? Math.round(f(v * 255)) : 255) : 0;
    }
  }
  for (let i = 0; i < n; i++) out[i * 4 + 3] = 255;
  return out;
}

/**
 * Bilinear scaling of an RGBA image (pixel centres aligned, edges clamped, as a canvas draws it): a
 * latent-size preview to the picture size, synchronously (a preview must not wait for a worker pool).
 */
export function scaleRgbaBilinear(src: Uint8Array, srcWidth: number, srcHeight: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  const sx = srcWidth / width;
  const sy = srcHeight / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(srcHeight - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(srcHeight - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(srcWidth - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(srcWidth - 1, x0 + 1);
      const wx = fx - x0;
      const a = (y0 * srcWidth + x0) * 4;
      const b = (y0 * srcWidth + x1) * 4;
      const c = (y1 * srcWidth + x0) * 4;
      const d = (y1 * srcWidth + x1) * 4;
      const o = (y * width + x) * 4;
      for (let k = 0; k < 4; k++) {
        const top = src[a + k]! + (src[b + k]! - src[a + k]!) * wx;
        const bottom = src[c + k]! + (src[d + k]! - src[c + k]!) * wx;
        out[o + k] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return out;
}
