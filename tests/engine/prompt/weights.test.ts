import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPromptWeights } from '../../../src-main/engine/prompt/index.js';
import { repoRoot } from '../../helpers/shared.js';

interface Case {
  tokens: number;
  dim: number;
  weights: number[];
  hidden: number[];
  expected: number[];
}

describe('applyPromptWeights (A1111 "Original" emphasis)', () => {
  const fixture = JSON.parse(
    readFileSync(path.join(repoRoot, 'tests', 'fixtures', 'tokenizer', 'a1111_emphasis_weights.json'), 'utf8'),
  ) as { cases: Case[] };

  it('matches torch float32 on the reference cases', () => {
    expect(fixture.cases.length).toBeGreaterThan(0);
    for (const c of fixture.cases) {
      const hidden = Float32Array.from(c.hidden);
      const before = hidden.slice();
      const out = applyPromptWeights(hidden, c.weights, c.tokens, c.dim);
      expect(out).toBeInstanceOf(Float32Array);
      expect(out.length).toBe(c.tokens * c.dim);
      expect(hidden).toEqual(before); // input untouched
      let maxErr = 0;
      for (let i = 0; i < out.length; i++) {
        const err = Math.abs(out[i]! - c.expected[i]!) / Math.max(1e-3, Math.abs(c.expected[i]!));
        maxErr = Math.max(maxErr, err);
      }
      expect(maxErr).toBeLessThan(1e-5);
    }
  });

  it('keeps the mean of the chunk', () => {
    const tokens = 4;
    const dim = 3;
    const hidden = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const out = applyPromptWeights(hidden, [1, 2, 0.5, 1], tokens, dim);
    const mean = (a: Float32Array): number => a.reduce((s, x) => s + x, 0) / a.length;
    expect(mean(out)).toBeCloseTo(mean(hidden), 5);
    // relative scaling between tokens follows the weights
    expect(out[3]! / out[0]!).toBeCloseTo((4 * 2) / 1, 5);
  });

  it('returns an unchanged copy when all weights are 1', () => {
    const hidden = Float32Array.from([0.5, -1, 2, 3]);
    const out = applyPromptWeights(hidden, [1, 1], 2, 2);
    expect(out).toEqual(hidden);
    expect(out).not.toBe(hidden);
  });

  it('does not divide by a zero weighted mean', () => {
    const out = applyPromptWeights(Float32Array.from([1, 1, 1, 1]), [0, 0], 2, 2);
    expect(Array.from(out)).toEqual([0, 0, 0, 0]);
  });

  it('validates the shape', () => {
    expect(() => applyPromptWeights(new Float32Array(4), [1], 2, 2)).toThrow();
    expect(() => applyPromptWeights(new Float32Array(3), [1, 1], 2, 2)).toThrow();
  });
});
