// A1111's "Original" emphasis (modules/sd_emphasis.py: EmphasisOriginal.after_transformers), applied to
// one chunk of text-encoder output:
//   original_mean = z.mean()
//   z = z * multipliers[:, None]
//   z = z * (original_mean / z.mean())
// torch does this in float32: the weights are float32, every product is rounded to float32 and the
// means are float32 scalars. Here the sums are accumulated in float64 (torch's CPU mean uses a
// cascade sum that is about as exact) and every stored value is rounded to float32 with Math.fround.

/** Mean of the first n values, accumulated in float64 and rounded to float32. */
function float32Mean(values: Float32Array, n: number): number {
  // Pairwise blocks keep the float64 sum exact enough for any realistic size.
  let total = 0;
  const block = 4096;
  for (let start = 0; start < n; start += block) {
    const end = Math.min(n, start + block);
    let s = 0;
    for (let i = start; i < end; i++) s += values[i]!;
    total += s;
  }
  return Math.fround(total / n);
}

/**
 * Weights a [tokens, dim] chunk of hidden states by its per-token weights and restores the chunk's
 * mean. Returns a new array; `hidden` is left unchanged. If every weight is 1 the values are copied as
 * they are. If the weighted mean is 0 (or not finite) the mean is not restored (torch would give NaN/inf).
 */
export function applyPromptWeights(hidden: Float32Array, weights: readonly number[], tokens: number, dim: number): Float32Array {
  const n = tokens * dim;
  if (!Number.isInteger(tokens) || !Number.isInteger(dim) || tokens <= 0 || dim <= 0) {
    throw new Error(`applyPromptWeights: bad shape [${tokens}, ${dim}]`);
  }
  if (hidden.length < n) throw new Error(`applyPromptWeights: hidden has ${hidden.length} values, shape needs ${n}`);
  if (weights.length !== tokens) throw new Error(`applyPromptWeights: ${weights.length} weights for ${tokens} tokens`);

  const out = new Float32Array(n);
  if (weights.every((w) => w === 1)) {
    out.set(hidden.subarray(0, n));
    return out;
  }
  const originalMean = float32Mean(hidden, n);
  for (let t = 0; t < tokens; t++) {
    const w = Math.fround(weights[t]!);
    const base = t * dim;
    for (let d = 0; d < dim; d++) out[base + d] = hidden[base + d]! * w; // Float32Array stores round to float32
  }
  const newMean = float32Mean(out, n);
  if (newMean === 0 || !Number.isFinite(newMean) || !Number.isFinite(originalMean)) return out;
  const ratio = Math.fround(originalMean / newMean);
  for (let i = 0; i < n; i++) out[i] = out[i]! * ratio;
  return out;
}
