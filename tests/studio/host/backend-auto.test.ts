// The studio's default backend is 'auto': it runs where the engine's probe says, and says so once, as a notice.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sanitizeSettings } from '../../../src-main/host/settings.js';
import { DEFAULT_SETTINGS } from '../../../src-main/shared/contract.js';
import { makeService, TINY, type Harness } from './helpers.js';

const hasGpuBackend = process.env['LATENT_STUDIO_HAS_CUDA'] === '1' || process.env['LATENT_STUDIO_HAS_WEBGPU'] === '1';

describe('settings', () => {
  it("default to backend 'auto', also when the file does not say", () => {
    expect(DEFAULT_SETTINGS.backend).toBe('auto');
    expect(sanitizeSettings({}).settings.backend).toBe('auto');
    expect(sanitizeSettings({ backend: 'cpu' }).settings.backend).toBe('cpu');
  });
});

describe.skipIf(hasGpuBackend || process.platform !== 'linux')('a job with the default backend', () => {
  let h: Harness;
  let savedCache: string | undefined;
  beforeAll(async () => {
    // The engine worker remembers the choice in the per-user cache folder: a fresh one, so that it probes.
    savedCache = process.env['XDG_CACHE_HOME'];
    process.env['XDG_CACHE_HOME'] = mkdtempSync(path.join(os.tmpdir(), 'latent-cache-'));
    h = await makeService();
  });
  afterAll(async () => {
    await h?.close();
    if (savedCache === undefined) delete process.env['XDG_CACHE_HOME'];
    else process.env['XDG_CACHE_HOME'] = savedCache;
  });

  it('runs on the CPU here and says "auto (cpu)" once, as a warning notice', async () => {
    const job = { model: TINY, prompt: 'a red fox', width: 64, height: 64, steps: 2, seed: 1, sampler: 'euler' as const };
    for (let i = 0; i < 2; i++) {
      const r = await h.service.handlers.generate(job);
      if (!r.ok) throw new Error(r.error.message);
      expect((await h.recorder.end(r.value.jobId)).event).toBe('result');
    }
    const notices = h.recorder.events.filter((e) => e.event === 'notice' && /^backend auto/.test(e.payload.message));
    expect(notices).toHaveLength(1);
    expect(notices[0]!.payload).toMatchObject({ level: 'warning' });
    expect(notices[0]!.payload.message).toMatch(/^backend auto \(cpu\): no GPU backend works on this machine .*running on the CPU/);
  });
});
