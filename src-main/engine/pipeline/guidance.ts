// Classifier-free guidance arithmetic and the LCM guidance-scale embedding.

/**
 * noise = uncond + scale·(cond − uncond), rounded to float32 at every operation as torch does.
 */
export function combineGuidance(uncond: Float32Array, cond: Float32Array, scale: number): Float32Array {
  const f = Math.fround;
  const g = f(scale);
  const out = new Float32Array(uncond.length);
  for (let i = 0; i < out.length; i++) out[i] = f(uncond[i]! + f(g * f(cond[i]! - uncond[i]!)));
  return out;
}

/**
 * diffusers LatentConsistencyModelPipeline.get_guidance_scale_embedding(w, embedding_dim), for one w:
 *   w = w·1000; half = dim // 2; e = exp(arange(half) · −ln(10000)/(half − 1))
 *   emb = [sin(w·e), cos(w·e)], zero-padded to dim when dim is odd. float32 throughout.
 * The pipeline passes w = guidance_scale − 1.
 */
export function guidanceScaleEmbedding(w: number, embeddingDim: number): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(embeddingDim);
  const half = Math.floor(embeddingDim / 2);
  if (half === 0) return out;
  const ww = f(f(w) * 1000);
  // torch: log(tensor(10000.0)) is float32; / (half - 1) in float32 (half == 1 gives inf/NaN in torch too).
  const step = f(f(Math.log(10000)) / (half - 1));
  for (let k = 0; k < half; k++) {
    const e = f(Math.exp(f(k * -step)));
    const x = f(ww * e);
    out[k] = Math.sin(x);
    out[half + k] = Math.cos(x);
  }
  return out;
}
