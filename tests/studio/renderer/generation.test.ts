import { describe, expect, it } from 'vitest';
import { GenerationController, type FinishedJob, type PreviewFrame } from '../../../src-renderer/src/lib/state/generation.svelte.js';
import type { GeneratePayload } from '../../../src-main/shared/contract.js';
import { FakeApi } from './fake-api.js';

const payload: GeneratePayload = { model: 'm', prompt: 'x', steps: 3, width: 64, height: 64, batchCount: 1 };
const progress = (jobId: string, step: number) => ({ jobId, image: 0, step, totalSteps: 3, elapsedMs: step * 10, etaMs: (3 - step) * 10 });
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('GenerationController', () => {
  it('follows progress, previews and the result of its job', async () => {
    const api = new FakeApi();
    const g = new GenerationController(api.asApi());
    const frames: PreviewFrame[] = [];
    const done: FinishedJob[] = [];
    g.onPreview((f) => frames.push(f));
    g.onResult((r) => done.push(r));
    await g.start(payload);
    expect(g.phase).toBe('running');
    expect(g.jobId).toBe('job1');
    api.emit('progress', progress('job1', 1));
    api.emit('preview', { jobId: 'job1', image: 0, step: 1, kind: 'latent', width: 8, height: 8, rgba: new Uint8Array(256) });
    expect([g.step, g.totalSteps, g.etaMs]).toEqual([1, 3, 20]);
    expect(g.fraction).toBeCloseTo(1 / 3);
    expect(frames).toHaveLength(1);
    api.emit('progress', progress('other', 3)); // someone else's job
    expect(g.step).toBe(1);
    api.emit('result', { jobId: 'job1', images: [{ png: new Uint8Array(1), width: 64, height: 64, seed: '7', infotext: '' }], elapsedMs: 1234 });
    expect(g.phase).toBe('idle');
    expect(done[0]!.images[0]!.seed).toBe('7');
    expect(g.notice).toMatch(/1\.2 s/);
  });

  it('replays events that arrive before the generate reply', async () => {
    const api = new FakeApi();
    let release!: () => void;
    api.handlers.generate = () =>
      new Promise((res) => {
        release = () => res({ ok: true, value: { jobId: 'early', position: 0 } });
      });
    const g = new GenerationController(api.asApi());
    const started = g.start(payload);
    await tick();
    api.emit('progress', progress('early', 2));
    expect(g.step).toBe(0);
    release();
    await started;
    expect(g.step).toBe(2);
  });

  it('cancels: the job reports jobCancelled and the controller goes idle', async () => {
    const api = new FakeApi();
    const g = new GenerationController(api.asApi());
    await g.start(payload);
    const c = g.cancel();
    expect(g.phase).toBe('cancelling');
    await c;
    expect(api.calls.at(-1)).toEqual({ channel: 'cancel', payload: { jobId: 'job1' } });
    api.emit('jobCancelled', { jobId: 'job1' });
    expect(g.phase).toBe('idle');
    expect(g.notice).toBe('Cancelled.');
  });

  it('a cancelled batch keeps the images that finished before the cancel', async () => {
    const api = new FakeApi();
    const g = new GenerationController(api.asApi());
    const done: FinishedJob[] = [];
    g.onResult((r) => done.push(r));
    await g.start({ ...payload, batchCount: 5 });
    const image = (seed: string) => ({ png: new Uint8Array(1), width: 64, height: 64, seed, infotext: '' });
    api.emit('image', { jobId: 'job1', index: 0, image: image('7') });
    api.emit('image', { jobId: 'other', index: 0, image: image('99') }); // someone else's job
    await g.cancel();
    api.emit('jobCancelled', { jobId: 'job1' });
    expect(g.phase).toBe('idle');
    expect(done.map((d) => d.images.map((i) => i.seed))).toEqual([['7']]);
    expect(g.notice).toBe('Cancelled (1 finished image kept).');
  });

  it('a new start (live mode) cancels the stale job and ignores its events', async () => {
    const api = new FakeApi();
    const g = new GenerationController(api.asApi());
    const done: FinishedJob[] = [];
    g.onResult((r) => done.push(r));
    await g.start(payload, 'live');
    await g.start(payload, 'live');
    expect(api.calls.filter((c) => c.channel === 'cancel')).toEqual([{ channel: 'cancel', payload: { jobId: 'job1' } }]);
    api.emit('result', { jobId: 'job1', images: [], elapsedMs: 1 });
    expect(done).toHaveLength(0);
    expect(g.jobId).toBe('job2');
  });

  it('shows engine errors readably and stays usable', async () => {
    const api = new FakeApi();
    const g = new GenerationController(api.asApi());
    await g.start(payload);
    api.emit('jobError', { jobId: 'job1', error: { code: 'bad-model', message: 'unet/model.onnx is missing', file: '/m/unet' } });
    expect(g.phase).toBe('idle');
    expect(g.error).toMatchObject({ code: 'bad-model', title: 'The model could not be loaded', message: 'unet/model.onnx is missing' });
    expect(g.error!.details).toContain('File: /m/unet');
    api.handlers.generate = () => ({ ok: false, error: { code: 'invalid-payload', message: 'bad', details: ['steps: steps must be at least 1'] } });
    await g.start(payload);
    expect(g.error!.title).toBe('Some settings are not valid');
    expect(g.error!.details).toEqual(['steps: steps must be at least 1']);
    api.handlers.generate = () => ({ ok: true, value: { jobId: 'ok', position: 0 } });
    await g.start(payload);
    expect(g.error).toBeNull();
    expect(g.phase).toBe('running');
  });

  it('a failure while preparing the payload is reported', async () => {
    const api = new FakeApi();
    const g = new GenerationController(api.asApi());
    await g.start(async () => {
      throw new Error('could not encode the mask');
    });
    expect(g.error!.message).toBe('could not encode the mask');
    expect(g.phase).toBe('idle');
  });
});
