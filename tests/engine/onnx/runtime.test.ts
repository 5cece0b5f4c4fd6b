import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildSessionOptions,
  createSession,
  floatTensor,
  intTensor,
  listSupportedBackends,
  normalizeBackendName,
  numericTensor,
  toFloat32,
} from '../../../src-main/engine/onnx/index.js';
import { repoRoot } from '../../helpers/shared.js';

const decoder = path.join(repoRoot, 'tests/models/tiny-sd15/vae_decoder/model.onnx');
const decoderFp16 = path.join(repoRoot, 'tests/models/tiny-sd15-fp16/vae_decoder/model.onnx');

describe('backends', () => {
  it('lists cpu first and all of our names', () => {
    const list = listSupportedBackends();
    expect(list[0]).toEqual({ name: 'cpu', listed: true, bundled: true });
    for (const n of ['cpu', 'cuda', 'dml', 'coreml', 'webgpu', 'tensorrt']) expect(list.map((b) => b.name)).toContain(n);
    if (process.platform === 'linux') {
      // onnxruntime-node's Linux build knows cuda but does not bundle its provider libraries; dml is Windows-only.
      expect(list.find((b) => b.name === 'dml')?.listed).toBe(false);
    }
  });

  it('normalises names', () => {
    expect(normalizeBackendName('DirectML')).toBe('dml');
    expect(normalizeBackendName(' CUDA ')).toBe('cuda');
    expect(normalizeBackendName('gpu')).toBe('cuda');
    expect(normalizeBackendName('cpu')).toBe('cpu');
  });

  it('builds session options in one place', () => {
    // 1 thread: at most the machine's CPUs are used (tests/cli/hostile-inputs.test.ts checks the cap).
    const cpu = buildSessionOptions({ threads: 1 });
    expect(cpu).toMatchObject({
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      enableMemPattern: true,
      intraOpNumThreads: 1,
      executionProviders: ['cpu'],
    });
    const dml = buildSessionOptions({ backend: 'directml' });
    expect(dml).toMatchObject({ enableMemPattern: false, executionMode: 'sequential', executionProviders: ['dml'] });
    expect(buildSessionOptions({}).intraOpNumThreads).toBeUndefined();
    // The arena stays by default (the UNet); the VAE sessions run without one (model.ts).
    expect(buildSessionOptions({}).enableCpuMemArena).toBe(true);
    expect(buildSessionOptions({ keepArena: false }).enableCpuMemArena).toBe(false);
  });

  it.each(['cuda', 'dml', 'coreml', 'no-such-backend'])('falls back from %s to the CPU with a warning', async (name) => {
    if (name === 'cuda' && process.env['LATENT_STUDIO_HAS_CUDA'] === '1') return;
    const warnings: string[] = [];
    const s = await createSession(decoder, { backend: name, threads: 1, onWarning: (m) => warnings.push(m) });
    try {
      expect(s.backend).toBe('cpu');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`'${name}'`);
      expect(warnings[0]).toContain('CPU');
    } finally {
      await s.release();
    }
  });
});

describe('webgpu', () => {
  it('runs on webgpu where an adapter exists, else falls back to the CPU with a warning', async () => {
    const warnings: string[] = [];
    const s = await createSession(decoder, { backend: 'webgpu', threads: 1, onWarning: (m) => warnings.push(m) });
    try {
      if (s.backend === 'cpu') expect(warnings[0]).toContain("'webgpu'");
      else expect(s.backend).toBe('webgpu');
      const out = await s.run({ latent_sample: floatTensor('float32', new Float32Array(4 * 4).fill(0.5), [1, 4, 2, 2]) });
      expect(out['sample']!.dims).toEqual([1, 3, 16, 16]);
    } finally {
      await s.release();
    }
  });
});

describe('sessions and tensors', () => {
  it('exposes input/output metadata and runs', async () => {
    const s = await createSession(decoder, { threads: 1 });
    try {
      expect(s.inputs).toEqual([{ name: 'latent_sample', type: 'float32', shape: ['batch_size', 4, 'height_latent', 'width_latent'] }]);
      expect(s.outputs[0]).toMatchObject({ name: 'sample', type: 'float32' });
      const out = await s.run({ latent_sample: floatTensor('float32', new Float32Array(4 * 2 * 3).fill(0.5), [1, 4, 2, 3]) });
      expect(out['sample']!.dims).toEqual([1, 3, 16, 24]);
      expect(out['sample']!.data).toBeInstanceOf(Float32Array);
    } finally {
      await s.release();
    }
  });

  it('feeds and reads float16 as Uint16Array bits', async () => {
    const s = await createSession(decoderFp16, { threads: 1 });
    try {
      expect(s.inputs[0]!.type).toBe('float16');
      const out = await s.run({ latent_sample: floatTensor('float16', new Float32Array(4 * 2 * 2).fill(0.25), [1, 4, 2, 2]) });
      const t = out['sample']!;
      expect(t.type).toBe('float16');
      expect(t.data).toBeInstanceOf(Uint16Array);
      const f = toFloat32(t);
      expect(f).toHaveLength(3 * 16 * 16);
      expect(f.every(Number.isFinite)).toBe(true);
    } finally {
      await s.release();
    }
  });

  it('throws (no fallback) for a file that is not a model', async () => {
    await expect(createSession(path.join(repoRoot, 'tests/models/tiny-sd15/model_index.json'))).rejects.toThrow();
  });

  it('tensor helpers convert types and check sizes', () => {
    expect(intTensor('int64', [1.9, -2.5], [2]).data).toEqual(BigInt64Array.of(1n, -2n));
    expect(intTensor('int32', [7], [1]).data).toEqual(Int32Array.of(7));
    expect(numericTensor('float32', [1, 2], [2]).data).toEqual(Float32Array.of(1, 2));
    expect(numericTensor('float16', [1], []).data).toEqual(Uint16Array.of(0x3c00));
    expect(() => floatTensor('float32', new Float32Array(3), [2, 2])).toThrow(RangeError);
    expect(() => intTensor('uint8', [1], [1])).toThrow(TypeError);
    expect(toFloat32({ type: 'float16', data: Uint16Array.of(0x4200), dims: [1] })).toEqual(Float32Array.of(3));
  });
});
