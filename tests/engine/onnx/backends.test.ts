import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  autoChoiceFrom,
  buildSessionOptions,
  chooseAutoBackend,
  createSession,
  defaultBackendCacheFile,
  failureReason,
  forgetAutoChoice,
  probeBackend,
  runtimeIdentity,
} from '../../../src-main/engine/onnx/index.js';
import { probeSessionOptions } from '../../../src-main/engine/onnx/runtime.js';
import { repoRoot } from '../../helpers/shared.js';

const decoder = path.join(repoRoot, 'tests/models/tiny-sd15/vae_decoder/model.onnx');
// This machine's GPU backends (none on the CI/dev box; set these where a GPU works, as runtime.test.ts does).
const hasGpuBackend = process.env['LATENT_STUDIO_HAS_CUDA'] === '1' || process.env['LATENT_STUDIO_HAS_WEBGPU'] === '1';
const notInBuild = process.platform === 'win32' ? 'coreml' : 'dml';

describe('probeBackend', () => {
  it('cpu works: the tiny probe model is valid and computes x + x', async () => {
    expect(await probeBackend('cpu')).toEqual({ name: 'cpu', works: true });
  });

  it(`a backend that is not in this build fails with the reason (${notInBuild})`, async () => {
    const probe = await probeBackend(notInBuild);
    expect(probe.works).toBe(false);
    expect(probe.reason).toBe(`not in onnxruntime-node's build for ${process.platform}-${process.arch}`);
  });

  it('an unknown backend fails with a reason', async () => {
    const probe = await probeBackend('no-such-backend');
    expect(probe).toMatchObject({ name: 'no-such-backend', works: false });
    expect(probe.reason).toBeTruthy();
  });

  it.skipIf(process.platform !== 'linux' || hasGpuBackend)('cuda without its provider libraries fails and says which library is missing', async () => {
    const probe = await probeBackend('cuda');
    expect(probe.works).toBe(false);
    expect(probe.reason).toMatch(/libonnxruntime_providers_shared\.so: cannot open shared object file/);
  });
});

describe('failureReason', () => {
  it("keeps the sentence after onnxruntime's failed check", () => {
    const message =
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(...)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';
    expect(failureReason(message)).toBe('Failed to get a WebGPU adapter: No supported adapters');
  });

  it('adds the loader error that onnxruntime logged on stderr', () => {
    const stderr = '... Failed to load library /x/libonnxruntime_providers_shared.so with error: libcudnn.so.9: cannot open shared object file\n';
    expect(failureReason('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library', stderr)).toBe(
      'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library (libcudnn.so.9: cannot open shared object file)',
    );
  });
});

describe('session options per backend', () => {
  it('webgpu prefers NHWC, coreml compiles an ML Program, dml runs sequentially without memory patterns', () => {
    expect(buildSessionOptions({ backend: 'webgpu' }).executionProviders).toEqual([{ name: 'webgpu', preferredLayout: 'NHWC' }]);
    expect(buildSessionOptions({ backend: 'coreml' }).executionProviders).toEqual([{ name: 'coreml', coreMlFlags: 0x010 }]);
    expect(buildSessionOptions({ backend: 'cuda' }).executionProviders).toEqual(['cuda']);
    expect(buildSessionOptions({ backend: 'dml' })).toMatchObject({ enableMemPattern: false, executionMode: 'sequential' });
  });

  it('a probe forbids the CPU fallback for every backend but the CPU, and keeps the other options', () => {
    const cuda = probeSessionOptions('cuda').extra as { session: Record<string, unknown> };
    expect(cuda.session['disable_cpu_ep_fallback']).toBe('1');
    expect(cuda.session['intra_op']).toEqual({ allow_spinning: '0' });
    const cpu = probeSessionOptions('cpu').extra as { session: Record<string, unknown> };
    expect(cpu.session['disable_cpu_ep_fallback']).toBeUndefined();
  });
});

describe('auto', () => {
  let dir: string;
  let cacheFile: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'latent-backends-'));
    cacheFile = path.join(dir, 'latent-studio', 'backends.json');
  });

  it('orders by expected speed: cuda, dml, coreml, webgpu, cpu', () => {
    const fails = (name: string) => ({ name, works: false, reason: 'x' });
    const works = (name: string) => ({ name, works: true });
    expect(autoChoiceFrom([works('cpu'), works('webgpu'), fails('cuda')]).backend).toBe('webgpu');
    expect(autoChoiceFrom([works('cpu'), works('webgpu'), works('cuda')]).backend).toBe('cuda');
    expect(autoChoiceFrom([works('cpu'), works('tensorrt')]).backend).toBe('cpu');
    expect(autoChoiceFrom([works('webgpu')]).warning).toBeUndefined();
    expect(autoChoiceFrom([works('cpu'), fails('webgpu')]).warning).toMatch(/running on the CPU/);
  });

  it.skipIf(hasGpuBackend)('picks cpu here with a warning, remembers it, and probes again when the key changes', async () => {
    const first = await chooseAutoBackend({ cacheFile });
    expect(first).toMatchObject({ backend: 'cpu', cached: false });
    expect(first.probes.map((p) => p.name)).toEqual(['cuda', 'dml', 'coreml', 'webgpu', 'cpu']);
    expect(first.warning).toMatch(/^backend auto \(cpu\): no GPU backend works on this machine .*running on the CPU/);
    const saved = JSON.parse(readFileSync(cacheFile, 'utf8')) as { key: string; backend: string };
    expect(saved).toMatchObject({ key: runtimeIdentity(), backend: 'cpu' });

    const second = await chooseAutoBackend({ cacheFile });
    expect(second).toMatchObject({ backend: 'cpu', cached: true });
    expect(second.warning).toBe(first.warning);

    writeFileSync(cacheFile, JSON.stringify({ ...saved, key: 'onnxruntime-node 0.0.1 elsewhere' }));
    const third = await chooseAutoBackend({ cacheFile });
    expect(third).toMatchObject({ backend: 'cpu', cached: false });
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))).toMatchObject({ key: runtimeIdentity() });
  });

  it('uses a remembered choice without probing', async () => {
    writeFileSync(path.join(dir, 'backends.json'), JSON.stringify({ key: runtimeIdentity(), backend: 'webgpu', probes: [{ name: 'webgpu', works: true }], probedAt: '' }));
    const choice = await chooseAutoBackend({ cacheFile: path.join(dir, 'backends.json') });
    expect(choice).toEqual({ backend: 'webgpu', cached: true, probes: [{ name: 'webgpu', works: true }] });
  });

  it('callers at the same time share one probe', async () => {
    const [a, b] = await Promise.all([chooseAutoBackend({ cacheFile }), chooseAutoBackend({ cacheFile })]);
    expect(a).toBe(b);
  });

  it('forgets the choice on request', async () => {
    await chooseAutoBackend({ cacheFile });
    await forgetAutoChoice(cacheFile);
    expect(existsSync(cacheFile)).toBe(false);
  });
});

describe.skipIf(process.platform !== 'linux')('createSession with backend auto', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env['XDG_CACHE_HOME'];
    process.env['XDG_CACHE_HOME'] = mkdtempSync(path.join(os.tmpdir(), 'latent-cache-'));
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['XDG_CACHE_HOME'];
    else process.env['XDG_CACHE_HOME'] = saved;
  });

  it.skipIf(hasGpuBackend)('runs on the chosen backend (cpu here) and says why', async () => {
    const warnings: string[] = [];
    const s = await createSession(decoder, { backend: 'auto', threads: 1, onWarning: (m) => warnings.push(m) });
    try {
      expect(s.backend).toBe('cpu');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^backend auto \(cpu\): .*running on the CPU/);
      expect(existsSync(defaultBackendCacheFile())).toBe(true);
    } finally {
      await s.release();
    }
  });

  it.skipIf(hasGpuBackend)('forgets a remembered backend that no longer starts, and falls back to the CPU', async () => {
    const file = defaultBackendCacheFile();
    await chooseAutoBackend(); // creates the folder and the file
    writeFileSync(file, JSON.stringify({ key: runtimeIdentity(), backend: 'cuda', probes: [{ name: 'cuda', works: true }], probedAt: '' }));
    const warnings: string[] = [];
    const s = await createSession(decoder, { backend: 'auto', threads: 1, onWarning: (m) => warnings.push(m) });
    try {
      expect(s.backend).toBe('cpu');
      expect(warnings.join('\n')).toContain("Backend 'cuda' failed to start");
      expect(existsSync(file)).toBe(false);
    } finally {
      await s.release();
    }
  });
});
