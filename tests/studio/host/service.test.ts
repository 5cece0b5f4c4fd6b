// The studio contract in Node, without Electron: service handlers called directly, real engine worker, tiny models.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudioEngine } from '../../../src-main/host/index.js';
import { DEFAULT_SETTINGS } from '../../../src-main/shared/contract.js';
import { generationLimits } from '../../../src-main/shared/generate-request.js';
import { stat } from 'node:fs/promises';
import { makeService, modelsDir, PNG_SIGNATURE, TINY, type Harness } from './helpers.js';

const small = { model: TINY, prompt: 'a red fox', width: 64, height: 64, steps: 3, seed: 42, sampler: 'euler' as const };

describe('studio service over the engine worker', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeService();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('generate: jobQueued → jobStarted → progress → preview → result with PNGs', async () => {
    const r = await h.service.handlers.generate({ ...small, batchCount: 2 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const { jobId, position } = r.value;
    expect(position).toBe(0);
    const end = await h.recorder.end(jobId);
    expect(end.event).toBe('result');
    const kinds = h.recorder.of(jobId).map((e) => e.event);
    expect(kinds[0]).toBe('jobQueued');
    expect(kinds[1]).toBe('jobStarted');
    expect(kinds.at(-1)).toBe('result');
    const progress = h.recorder.of(jobId, 'progress').map((e) => e.payload);
    expect(progress.length).toBe(6);
    expect(progress[0]).toMatchObject({ jobId, image: 0, step: 1, totalSteps: 3 });
    expect(progress.at(-1)).toMatchObject({ image: 1, step: 3, totalSteps: 3 });
    for (const p of progress) {
      expect(typeof p.elapsedMs).toBe('number');
      expect(typeof p.etaMs).toBe('number');
    }
    const previews = h.recorder.of(jobId, 'preview');
    expect(previews.length).toBeGreaterThan(0);
    const pv = previews[0]!.payload;
    expect(pv.rgba).toBeInstanceOf(Uint8Array);
    expect(pv.rgba.byteLength).toBe(pv.width * pv.height * 4);
    // The frame stands for the whole picture (engine PreviewEvent.pictureWidth/Height).
    expect([pv.pictureWidth, pv.pictureHeight]).toEqual([small.width, small.height]);
    expect(typeof previews[0]!.seq).toBe('number');
    const images = end.payload.images;
    expect(images).toHaveLength(2);
    expect([...images[0].png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(images[0]).toMatchObject({ width: 64, height: 64, seed: '42' });
    expect(images[1].seed).toBe('43');
    expect(images[0].infotext).toContain('Steps: 3');
    expect(images[0].infotext).toContain('Seed: 42');
  });

  it('each image of a batch is saved and sent as soon as it is done; a cancel keeps the finished ones', async () => {
    const r = await h.service.handlers.generate({ ...small, batchCount: 50 });
    if (!r.ok) throw new Error(r.error.message);
    const { jobId } = r.value;
    const first = await h.recorder.waitFor((e) => e.payload?.jobId === jobId && ['image', 'result', 'jobError', 'jobCancelled'].includes(e.event));
    expect(first.event).toBe('image');
    expect(first.payload).toMatchObject({ index: 0, image: { seed: '42', width: 64, height: 64, saved: { file: expect.any(String) } } });
    expect(await h.service.handlers.cancel({ jobId })).toEqual({ ok: true, value: { cancelled: [jobId] } });
    expect((await h.recorder.end(jobId)).event).toBe('jobCancelled');
    const kept = h.recorder.of(jobId, 'image').map((e) => e.payload);
    expect(kept.length).toBeLessThan(50);
    expect(kept.map((k) => k.index)).toEqual(kept.map((_, i) => i));
    for (const k of kept) expect((await stat(k.image.saved.file)).size).toBe(k.image.png.byteLength);
  });

  it('inpainting with the mask as raw pixels (as the canvas sends it)', async () => {
    const done = await h.service.handlers.generate({ ...small, steps: 2 });
    if (!done.ok) throw new Error(done.error.message);
    const init = (await h.recorder.end(done.value.jobId)).payload.images[0].png as Uint8Array;
    const data = new Uint8Array(64 * 64);
    for (let y = 16; y < 48; y++) data.fill(255, y * 64 + 16, y * 64 + 48);
    const r = await h.service.handlers.generate({ ...small, model: 'bundled:tiny-inpaint', steps: 2, initImage: init, mask: { width: 64, height: 64, data } });
    if (!r.ok) throw new Error(r.error.message);
    const end = await h.recorder.end(r.value.jobId);
    expect(end.event).toBe('result');
    expect(end.payload.images[0].infotext).toContain('Mask blur: 4');
    const wrong = await h.service.handlers.generate({ ...small, initImage: init, mask: { width: 64, height: 64, data: new Uint8Array(10) } });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'invalid-payload', message: expect.stringMatching(/mask has 10 bytes of pixels/) } });
  });

  it('runs one job at a time, in submission order', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await h.service.handlers.generate({ ...small, seed: 100 + i });
      expect(r.ok).toBe(true);
      if (r.ok) {
        if (i === 0) expect(r.value.position).toBe(0);
        ids.push(r.value.jobId);
      }
    }
    const q = await h.service.handlers.getQueue(undefined);
    expect(q.ok && (q.value.running ? 1 : 0)).toBeLessThanOrEqual(1);
    await Promise.all(ids.map((id) => h.recorder.end(id)));
    const order = h.recorder.events.filter((e) => ids.includes(e.payload?.jobId) && (e.event === 'jobStarted' || e.event === 'result'));
    expect(order.map((e) => `${e.event}:${e.payload.jobId}`)).toEqual(ids.flatMap((id) => [`jobStarted:${id}`, `result:${id}`]));
    const seeds = ids.map((id) => h.recorder.of(id, 'result')[0]!.payload.images[0].seed);
    expect(seeds).toEqual(['100', '101', '102']);
  });

  it('cancels a queued job and the running job; the next one still runs', async () => {
    const long = { ...small, steps: 500 };
    const a = await h.service.handlers.generate(long);
    const b = await h.service.handlers.generate(small);
    const c = await h.service.handlers.generate(small);
    if (!a.ok || !b.ok || !c.ok) throw new Error('not queued');
    const [A, B, C] = [a.value.jobId, b.value.jobId, c.value.jobId];

    const rc = await h.service.handlers.cancel({ jobId: C });
    expect(rc).toEqual({ ok: true, value: { cancelled: [C] } });
    expect((await h.recorder.end(C)).event).toBe('jobCancelled');

    await h.recorder.waitFor((e) => e.event === 'progress' && e.payload.jobId === A);
    const ra = await h.service.handlers.cancel({ jobId: A });
    expect(ra).toEqual({ ok: true, value: { cancelled: [A] } });
    expect((await h.recorder.end(A)).event).toBe('jobCancelled');
    const lastStep = h.recorder.of(A, 'progress').at(-1)!.payload.step;
    expect(lastStep).toBeLessThan(500);
    expect((await h.recorder.end(B)).event).toBe('result');
    expect(h.recorder.of(C, 'jobStarted')).toHaveLength(0);

    const again = await h.service.handlers.cancel({ jobId: A });
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.error.code).toBe('job-not-found');
  });

  it("cancel { scope: 'all' } stops the running job and empties the queue", async () => {
    const a = await h.service.handlers.generate({ ...small, steps: 500 });
    const b = await h.service.handlers.generate(small);
    if (!a.ok || !b.ok) throw new Error('not queued');
    await h.recorder.waitFor((e) => e.event === 'progress' && e.payload.jobId === a.value.jobId);
    const r = await h.service.handlers.cancel({ scope: 'all' });
    expect(r.ok && [...r.value.cancelled].sort()).toEqual([a.value.jobId, b.value.jobId].sort());
    expect((await h.recorder.end(a.value.jobId)).event).toBe('jobCancelled');
    expect((await h.recorder.end(b.value.jobId)).event).toBe('jobCancelled');
    await h.service.whenIdle();
    const q = await h.service.handlers.getQueue(undefined);
    expect(q).toEqual({ ok: true, value: { running: null, queued: [] } });
  });

  it('rejects invalid payloads with clear errors', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...small, steps: 0 }, /steps: steps must be at least 1/],
      [{ ...small, width: 100 }, /width must be a multiple of 8/],
      [{ ...small, colour: 'red' }, /unknown field\(s\) "colour"/],
      [{ ...small, sampler: 'magic' }, /unknown sampler "magic"/],
      [{ prompt: 'x' }, /model/],
      ['generate me', /model|object/i],
      [{ ...small, mask: new Uint8Array([1]) }, /mask needs an initImage/],
    ];
    for (const [payload, message] of cases) {
      const r = await h.service.handlers.generate(payload);
      expect(r.ok, JSON.stringify(payload)).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('invalid-payload');
        expect(r.error.message).toMatch(message);
      }
    }
    const bad = await h.service.handlers.generate({ ...small, steps: -1, cfgScale: 'high' });
    expect(!bad.ok && bad.error.details?.length).toBe(2);

    expect(await h.service.handlers.cancel({})).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    expect(await h.service.handlers.cancel({ jobId: 'job-1', scope: 'all' })).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    expect(await h.service.handlers.inspectModel({})).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    expect(await h.service.handlers.listModels({ x: 1 })).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    expect(await h.service.handlers.setSettings({ threads: -2 })).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    expect(await h.service.handlers.setSettings({ userModelsDir: 'relative/dir' })).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    expect(await h.service.invoke('rm -rf', {})).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
    expect(await h.service.invoke('__proto__', {})).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
  });

  it('model errors come back as { ok: false, error } with the file', async () => {
    const missing = await h.service.handlers.generate({ ...small, model: '/no/such/model' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'model-not-found', file: '/no/such/model' } });
    const relative = await h.service.handlers.generate({ ...small, model: 'tiny-sd15' });
    expect(relative).toMatchObject({ ok: false, error: { code: 'model-not-found' } });
    if (!relative.ok) expect(relative.error.message).toContain('bundled:tiny-sd15');
    const unknownId = await h.service.handlers.generate({ ...small, model: 'bundled:nope' });
    expect(unknownId).toMatchObject({ ok: false, error: { code: 'model-not-found' } });
    const traversal = await h.service.handlers.generate({ ...small, model: 'bundled:..' });
    expect(traversal).toMatchObject({ ok: false, error: { code: 'model-not-found' } });

    const bad = await h.service.handlers.generate({ ...small, model: path.join(modelsDir, 'bad-sdxl-like') });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('bad-model');
      expect(bad.error.file).toContain('bad-sdxl-like');
      expect(bad.error.message.length).toBeGreaterThan(10);
    }
    const inspectBad = await h.service.handlers.inspectModel({ model: path.join(modelsDir, 'bad-sdxl-like') });
    expect(inspectBad).toMatchObject({ ok: false, error: { code: 'bad-model' } });
  });

  it('lists and inspects models; counts tokens', async () => {
    const list = await h.service.handlers.listModels(undefined);
    expect(list.ok).toBe(true);
    if (!list.ok) return;
    const tiny = list.value.find((m) => m.id === TINY);
    expect(tiny).toMatchObject({ name: 'tiny-sd15', source: 'bundled', hasVaeEncoder: true, pipeline: 'StableDiffusionPipeline' });
    expect(list.value.find((m) => m.name === 'bad-sdxl-like')?.problem).toBeTruthy();

    const info = await h.service.handlers.inspectModel({ model: TINY });
    expect(info.ok).toBe(true);
    if (info.ok) expect(info.value).toMatchObject({ id: TINY, name: 'tiny-sd15', family: 'sd1', isInpainting: false, defaultSampler: 'pndm' });
    const inpaint = await h.service.handlers.inspectModel({ model: 'bundled:tiny-inpaint' });
    expect(inpaint.ok && inpaint.value.isInpainting).toBe(true);

    const count = await h.service.handlers.countTokens({ text: 'a photo of a cat', model: TINY });
    expect(count).toMatchObject({ ok: true, value: { chunks: 1, perChunk: 75, limit: 75 } });
    expect(count.ok && count.value.tokens).toBeGreaterThanOrEqual(5);
    const full = await h.service.handlers.tokenize({ text: 'a (cat:1.5)', model: TINY });
    expect(full.ok && full.value.chunkTokens[0]!.promptTokens).toBe(2);

    const backends = await h.service.handlers.listBackends(undefined);
    expect(backends.ok && backends.value[0]).toEqual({ name: 'cpu', listed: true, bundled: true });

    const app = await h.service.handlers.getAppInfo(undefined);
    expect(app).toMatchObject({ ok: true, value: { host: 'web', version: '0.1.0-test', bundledModelsDir: modelsDir } });
  });

  it('setSettings merges, persists and broadcasts', async () => {
    const r = await h.service.handlers.setSettings({ backend: 'cpu', threads: 2, lastModel: TINY });
    expect(r).toMatchObject({ ok: true, value: { ...DEFAULT_SETTINGS, backend: 'cpu', threads: 2, lastModel: TINY } });
    const file = JSON.parse(await readFile(path.join(h.tmp, 'settings.json'), 'utf8'));
    expect(file.threads).toBe(2);
    expect(h.recorder.events.filter((e) => e.event === 'settingsChanged').at(-1)?.payload.settings.threads).toBe(2);
    const count = await h.service.handlers.countTokens({ text: 'cat' });
    expect(count.ok && count.value.tokens).toBe(1);
    await h.service.handlers.setSettings({ threads: 0 });
  });
});

describe('preview flow control', () => {
  it('sends one preview at a time per client and drops stale frames until acked', async () => {
    const h = await makeService({ autoAck: false, previewAckTimeoutMs: 60_000 });
    try {
      const r = await h.service.handlers.generate({ ...small, steps: 12 });
      if (!r.ok) throw new Error(r.error.message);
      await h.recorder.end(r.value.jobId);
      // Never acked: exactly one frame went out, the other 11 were held back (and the last one dropped at the end).
      const previews = h.recorder.of(r.value.jobId, 'preview');
      expect(previews).toHaveLength(1);
      expect(previews[0]!.payload.step).toBe(1);
      // Ack the stuck frame after the job ended: the frames held back were stale and were dropped, none is sent now.
      h.recorder.connection.ack(previews[0]!.seq!);
      expect(h.recorder.of(r.value.jobId, 'preview')).toHaveLength(1);

      // With an ack after each frame only the newest waiting one is sent.
      const r2 = await h.service.handlers.generate({ ...small, steps: 12 });
      if (!r2.ok) throw new Error(r2.error.message);
      const first = await h.recorder.waitFor((e) => e.event === 'preview' && e.payload.jobId === r2.value.jobId);
      await h.recorder.end(r2.value.jobId);
      expect(h.recorder.of(r2.value.jobId, 'preview')).toHaveLength(1);
      h.recorder.connection.ack(first.seq! + 100); // a wrong seq changes nothing
      h.recorder.connection.ack(first.seq!);
      expect(h.recorder.of(r2.value.jobId, 'preview')).toHaveLength(1); // the job is over: nothing stale is sent
    } finally {
      await h.close();
    }
  });

  it('a client that acks gets every frame; the latest one wins when it lags', async () => {
    const h = await makeService({ autoAck: false, previewAckTimeoutMs: 60_000 });
    try {
      const r = await h.service.handlers.generate({ ...small, steps: 30 });
      if (!r.ok) throw new Error(r.error.message);
      const id = r.value.jobId;
      // Ack each frame only when the job has moved on: every delivered frame must be newer than the previous.
      const seen: number[] = [];
      for (;;) {
        const next = await h.recorder.waitFor((e) => e.payload?.jobId === id && ((e.event === 'preview' && !seen.includes(e.seq!)) || e.event === 'result'));
        if (next.event === 'result') break;
        seen.push(next.seq!);
        const step = next.payload.step as number;
        await h.recorder.waitFor((e) => e.payload?.jobId === id && ((e.event === 'progress' && e.payload.step > step) || e.event === 'result'));
        h.recorder.connection.ack(next.seq!);
      }
      const steps = h.recorder.of(id, 'preview').map((e) => e.payload.step);
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
      expect(new Set(steps).size).toBe(steps.length);
    } finally {
      await h.close();
    }
  });
});

describe('settings file', () => {
  it('a corrupt settings file gives defaults and a warning notice', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-settings-'));
    const file = path.join(tmp, 'settings.json');
    await writeFile(file, '{ "backend": "cpu", oops');
    const fake: StudioEngine = { generate: async () => [], listBackends: async () => [], close: async () => undefined };
    const h = await makeService({ engine: fake, settingsFile: file, tmp });
    try {
      expect(await h.service.handlers.getSettings(undefined)).toEqual({ ok: true, value: { ...DEFAULT_SETTINGS } });
      const notice = h.recorder.events.find((e) => e.event === 'notice');
      expect(notice?.payload).toMatchObject({ level: 'warning', file });
      expect(notice?.payload.message).toMatch(/corrupt/);
    } finally {
      await h.close();
    }
  });

  it('invalid fields fall back to their defaults, valid ones are kept', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-settings-'));
    const file = path.join(tmp, 'settings.json');
    await writeFile(file, JSON.stringify({ backend: 'cuda', threads: 'many', theme: 'dark', unknown: 1 }));
    const fake: StudioEngine = { generate: async () => [], listBackends: async () => [], close: async () => undefined };
    const h = await makeService({ engine: fake, settingsFile: file, tmp });
    try {
      expect(await h.service.handlers.getSettings(undefined)).toEqual({ ok: true, value: { ...DEFAULT_SETTINGS, backend: 'cuda', theme: 'dark' } });
      expect(h.service.startupWarnings.join('\n')).toMatch(/"threads" is invalid/);
    } finally {
      await h.close();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('queue events', () => {
  it('carry job summaries, not requests: they stay small however long the prompts; prompts have a limit', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fake: StudioEngine = {
      async generate() {
        await gate;
        return [];
      },
      listBackends: async () => [],
      close: async () => undefined,
    };
    const h = await makeService({ engine: fake });
    try {
      const prompt = 'a castle on a hill at dusk, '.repeat(1000).slice(0, generationLimits.promptLength.max);
      for (let i = 0; i < 10; i++) expect((await h.service.handlers.generate({ ...small, prompt })).ok).toBe(true);
      const sizes = h.recorder.events.filter((e) => e.event === 'queue' || e.event === 'jobQueued').map((e) => JSON.stringify(e.payload).length);
      expect(sizes.length).toBeGreaterThanOrEqual(20);
      expect(Math.max(...sizes)).toBeLessThan(8 * 1024);
      const q = await h.service.handlers.getQueue(undefined);
      if (!q.ok) throw new Error(q.error.message);
      expect(JSON.stringify(q.value).length).toBeLessThan(8 * 1024);
      expect(q.value.queued[0]!.prompt).toBe(`${prompt.slice(0, generationLimits.summaryPromptLength - 1)}…`);
      const tooLong = await h.service.handlers.generate({ ...small, prompt: 'x'.repeat(2_000_000) });
      expect(tooLong).toMatchObject({ ok: false, error: { code: 'invalid-payload', message: expect.stringMatching(/prompt is too long/) } });
    } finally {
      release();
      await h.close();
    }
  });
});

describe('engine failures', () => {
  it('an engine error during a job becomes jobError; the queue goes on', async () => {
    let calls = 0;
    const fake: StudioEngine = {
      async generate() {
        calls++;
        if (calls === 1) throw Object.assign(new Error('UNet output has NaNs'), { code: 'non-finite' });
        return [];
      },
      listBackends: async () => [],
      close: async () => undefined,
    };
    const h = await makeService({ engine: fake });
    try {
      const a = await h.service.handlers.generate(small);
      const b = await h.service.handlers.generate(small);
      if (!a.ok || !b.ok) throw new Error('not queued');
      const endA = await h.recorder.end(a.value.jobId);
      expect(endA).toMatchObject({ event: 'jobError', payload: { error: { code: 'non-finite', message: 'UNet output has NaNs' } } });
      expect((await h.recorder.end(b.value.jobId)).event).toBe('result');
    } finally {
      await h.close();
    }
  });

  it('a dead worker is reported as engine-unavailable and restarted for the next job', async () => {
    // A worker *process* killed mid-run (SIGKILL), as the OS or a crash would. (A worker *thread* must never be
    // terminated inside onnxruntime's run(): that aborts the whole process, which is why the studio's engines
    // are processes and thread channels are only stopped after cancel-and-idle.)
    const { ChannelEngineClient, processWorkerChannel } = await import('../../../src-main/host/index.js');
    let spawned = 0;
    let killNext = true;
    const engine = new ChannelEngineClient(() => {
      spawned++;
      const ch = processWorkerChannel();
      if (killNext) {
        killNext = false;
        // Killed once the job is under way: at its first progress message.
        const onMessage = ch.onMessage.bind(ch);
        ch.onMessage = (handler) =>
          onMessage((m) => {
            handler(m);
            if (m.type === 'progress') void ch.terminate();
          });
      }
      return ch;
    });
    const h = await makeService({ engine });
    try {
      const a = await h.service.handlers.generate({ ...small, steps: 500 });
      if (!a.ok) throw new Error(a.error.message);
      const endA = await h.recorder.end(a.value.jobId);
      expect(endA).toMatchObject({ event: 'jobError', payload: { error: { code: 'engine-unavailable' } } });
      const b = await h.service.handlers.generate(small);
      if (!b.ok) throw new Error(b.error.message);
      expect((await h.recorder.end(b.value.jobId)).event).toBe('result');
      expect(spawned).toBe(2);
    } finally {
      await h.close();
    }
  });
});
