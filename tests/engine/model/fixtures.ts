// Shared helpers of the model tests: the committed tiny models and temporary copies to break.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../helpers/shared.js';

export const modelsDir = path.join(repoRoot, 'tests/models');
export const modelPath = (name: string): string => path.join(modelsDir, name);

export const VARIANTS = ['tiny-sd15', 'tiny-sd15-fp16', 'tiny-sd2-v', 'tiny-inpaint', 'tiny-lcm', 'tiny-turbo'] as const;

const temps: string[] = [];

/** A temporary copy of a committed model, with optional overlays (folders under tests/models) copied over it. */
export async function copyModel(name: string, ...overlays: string[]): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'latent-model-'));
  temps.push(root);
  const dir = path.join(root, name);
  await cp(modelPath(name), dir, { recursive: true });
  for (const o of overlays) await cp(modelPath(o), dir, { recursive: true, force: true });
  return dir;
}

export async function cleanupCopies(): Promise<void> {
  while (temps.length) await rm(temps.pop()!, { recursive: true, force: true });
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function pattern(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function allFinite(a: Float32Array): boolean {
  for (const x of a) if (!Number.isFinite(x)) return false;
  return true;
}
