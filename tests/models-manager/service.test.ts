// The contract path: StudioService handlers for the model manager (validated payloads, events), no Electron,
// a stub engine (no worker), the loopback fake hub.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StudioService, type StudioEngine } from '../../src-main/host/index.js';
import { isChannel, isEventName, type Channel, type PayloadOf, type ResponseOf, type Result } from '../../src-main/shared/contract.js';
import { modelsDir as bundledModelsDir, Recorder } from '../studio/host/helpers.js';
import { FakeHub, filesFromFolder, Gate, TINY_DIR } from './fake-hub.js';

const REPO = 'test-org/tiny-sd15-onnx';
const stubEngine: StudioEngine = {
  generate: async () => [],
  listBackends: async () => [],
  close: async () => undefined,
};

describe('model manager through the studio service', () => {
  let hub: FakeHub;
  let tmp: string;
  let service: StudioService;
  let rec: Recorder;
  let userModels: string;
  /** service.invoke with the contract's types. */
  let call: <C extends Channel>(channel: C, payload?: PayloadOf<C> | Record<string, unknown>) => Promise<Result<ResponseOf<C>>>;

  beforeAll(async () => {
    hub = await new FakeHub().start();
    hub.addRepo(REPO, filesFromFolder(TINY_DIR));
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-mm-svc-'));
    userModels = path.join(tmp, 'user-models');
    service = await StudioService.create({
      engine: stubEngine,
      bundledModelsDir,
      settingsFile: path.join(tmp, 'settings.json'),
      host: 'web',
      defaultOutputDir: path.join(tmp, 'outputs'),
      autosaveDir: path.join(tmp, 'autosave'),
      modelManager: { endpoint: hub.url, env: {}, defaultModelsDir: userModels, progressIntervalMs: 0, retryDelayMs: 10 },
    });
    call = <C extends Channel>(channel: C, payload?: PayloadOf<C> | Record<string, unknown>) =>
      service.invoke(channel, payload) as Promise<Result<ResponseOf<C>>>;
    rec = new Recorder();
    rec.connection = service.connect(rec);
  });
  afterAll(async () => {
    await service?.close();
    await hub?.close();
    await rm(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    hub.faults = {};
    hub.log.length = 0;
  });

  it('names are in the contract', () => {
    for (const c of ['modelManagerInfo', 'downloadModel', 'cancelDownload', 'importModel', 'removeModel']) expect(isChannel(c)).toBe(true);
    for (const e of ['downloadProgress', 'downloadDone', 'downloadError', 'modelsChanged']) expect(isEventName(e)).toBe(true);
  });

  it('validates payloads', async () => {
    const r = await call('downloadModel', { repo: 'not a repo' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('invalid-payload');
    const r2 = await call('importModel', { path: 'relative/dir' });
    expect(!r2.ok && r2.error.code).toBe('invalid-payload');
    const r3 = await call('removeModel', { model: 'bundled:tiny-sd15' });
    expect(!r3.ok && r3.error.code).toBe('invalid-payload');
  });

  it('download: progress events, done with a listed model; the default folder is adopted into the settings', async () => {
    const info = await call('modelManagerInfo');
    expect(info.ok && info.value.modelsDir).toBe(userModels);
    const r = await call('downloadModel', { repo: REPO });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ name: 'tiny-sd15-onnx', modelsDir: userModels });
    const id = r.value.downloadId;
    const done = await rec.waitFor((e) => (e.event === 'downloadDone' || e.event === 'downloadError') && e.payload.downloadId === id);
    expect(done.event).toBe('downloadDone');
    expect(done.payload.model).toMatchObject({ id: 'user:tiny-sd15-onnx', source: 'user', pipeline: 'StableDiffusionPipeline' });
    expect(done.payload.model.problem).toBeUndefined();
    const progress = rec.events.filter((e) => e.event === 'downloadProgress' && e.payload.downloadId === id).map((e) => e.payload);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.at(-1)!.bytes).toBe(progress.at(-1)!.totalBytes);
    expect(rec.events.some((e) => e.event === 'settingsChanged' && e.payload.settings.userModelsDir === userModels)).toBe(true);
    expect(rec.events.some((e) => e.event === 'modelsChanged' && e.payload.reason === 'download')).toBe(true);
    expect(JSON.parse(await readFile(path.join(tmp, 'settings.json'), 'utf8')).userModelsDir).toBe(userModels);
    const models = await call('listModels');
    expect(models.ok && models.value.map((m) => m.id)).toContain('user:tiny-sd15-onnx');
    // It is a usable model for the rest of the contract.
    const insp = await call('inspectModel', { model: 'user:tiny-sd15-onnx' });
    expect(insp.ok).toBe(true);
  });

  it('cancel mid-file → downloadError cancelled; downloading again resumes', async () => {
    const unetHeld = new Gate(); // never opened: the UNet cannot finish before the cancel
    hub.faults = { slow: { chunk: 8192, delayMs: 10, files: new Set(['unet/model.onnx']), until: unetHeld.opened } };
    const r = await call('downloadModel', { repo: REPO, name: 'second' });
    if (!r.ok) throw new Error(r.error.message);
    const id = r.value.downloadId;
    await rec.waitFor((e) => e.event === 'downloadProgress' && e.payload.downloadId === id && e.payload.file === 'unet/model.onnx' && e.payload.bytes > 0);
    const info = await call('modelManagerInfo');
    expect(info.ok && info.value.downloads.map((d) => d.downloadId)).toEqual([id]);
    const again = await call('downloadModel', { repo: REPO, name: 'second' });
    expect(!again.ok && again.error.code).toBe('busy');
    expect(await call('cancelDownload', { downloadId: id })).toEqual({ ok: true, value: { cancelled: true } });
    const end = await rec.waitFor((e) => (e.event === 'downloadDone' || e.event === 'downloadError') && e.payload.downloadId === id);
    expect(end.event).toBe('downloadError');
    expect(end.payload.error.code).toBe('cancelled');
    const after = await call('modelManagerInfo');
    expect(after.ok && after.value.partialDownloads.map((p) => p.repo)).toEqual([REPO]);

    hub.faults = {};
    hub.log.length = 0;
    const r2 = await call('downloadModel', { repo: REPO, name: 'second' });
    if (!r2.ok) throw new Error(r2.error.message);
    const end2 = await rec.waitFor((e) => (e.event === 'downloadDone' || e.event === 'downloadError') && e.payload.downloadId === r2.value.downloadId);
    expect(end2.event).toBe('downloadDone');
    // Only what was missing: the text encoder (finished before the cancel) and the UNet's first bytes are not fetched again.
    const total = filesFromFolder(TINY_DIR).reduce((a, f) => a + f.data.length, 0);
    const textEncoder = filesFromFolder(TINY_DIR).find((f) => f.path === 'text_encoder/model.onnx')!.data.length;
    expect(end2.payload.downloadedBytes).toBeLessThan(total - textEncoder);
    expect(hub.fileRequests('text_encoder/model.onnx')).toHaveLength(0);
    const ranged = hub.fileRequests('unet/model.onnx').filter((q) => q.url.startsWith('/cdn/'));
    expect(ranged[0]!.headers.range).toMatch(/^bytes=[1-9]/);
  });

  it('errors arrive as downloadError with the manager code (404 repo, checksum)', async () => {
    const r = await call('downloadModel', { repo: 'test-org/missing' });
    if (!r.ok) throw new Error(r.error.message);
    const end = await rec.waitFor((e) => e.event === 'downloadError' && e.payload.downloadId === r.value.downloadId);
    expect(end.payload.error.code).toBe('repo-not-found');
    hub.faults = { corrupt: new Set(['vae_decoder/model.onnx']) };
    const r2 = await call('downloadModel', { repo: REPO, name: 'third' });
    if (!r2.ok) throw new Error(r2.error.message);
    const end2 = await rec.waitFor((e) => e.event === 'downloadError' && e.payload.downloadId === r2.value.downloadId);
    expect(end2.payload.error.code).toBe('checksum');
    const models = await call('listModels');
    expect(models.ok && models.value.map((m) => m.id)).not.toContain('user:third');
  });

  it('import (copy, link) and remove', async () => {
    const imp = await call('importModel', { path: TINY_DIR, name: 'imported' });
    expect(imp.ok && imp.value).toMatchObject({ id: 'user:imported', source: 'user' });
    const link = await call('importModel', { path: TINY_DIR, name: 'linked', link: true });
    expect(link.ok && link.value.id).toBe('user:linked');
    const dup = await call('importModel', { path: TINY_DIR, name: 'imported' });
    expect(!dup.ok && dup.error.code).toBe('exists');
    const bad = await call('importModel', { path: path.join(bundledModelsDir, 'bad-sdxl-like') });
    expect(!bad.ok && bad.error.code).toBe('unsupported');
    expect(await call('removeModel', { model: 'user:linked' })).toEqual({ ok: true, value: { removed: 'user:linked' } });
    expect(await call('removeModel', { model: 'imported' })).toEqual({ ok: true, value: { removed: 'user:imported' } });
    const gone = await call('removeModel', { model: 'imported' });
    expect(!gone.ok && gone.error.code).toBe('model-not-found');
    const ids = (await call('listModels')) as { ok: true; value: Array<{ id: string }> };
    expect(ids.value.map((m) => m.id)).not.toContain('user:imported');
    expect(rec.events.filter((e) => e.event === 'modelsChanged').map((e) => e.payload.reason)).toEqual(expect.arrayContaining(['import', 'remove']));
  });
});
