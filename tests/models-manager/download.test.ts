// Downloads from a loopback fake hub serving tests/models/tiny-sd15 as a repository.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inspectModel } from '../../src-main/engine/model/inspect.js';
import { downloadModel, listInstalled, listPartialDownloads, ModelManagerError, stagingId, type DownloadOptions, type DownloadProgress } from '../../src-main/models-manager/index.js';
import { FakeHub, FakeProxy, filesFromFolder, Gate, TINY_DIR } from './fake-hub.js';

const REPO = 'test-org/tiny-sd15-onnx';
const UNET = 'unet/model.onnx';

let hub: FakeHub;
let tmp: string;
let models: string;

beforeAll(async () => {
  hub = await new FakeHub().start();
  hub.addRepo(REPO, [
    ...filesFromFolder(TINY_DIR),
    // Files a pipeline does not need: must not be fetched.
    { path: 'unet/diffusion_pytorch_model.safetensors', data: Buffer.alloc(4096, 1), lfs: true },
    { path: 'unet/model_fp16.onnx', data: Buffer.alloc(2048, 2), lfs: true },
    { path: 'README.md', data: Buffer.from('# tiny\n'), lfs: false },
    { path: 'feature_extractor/preprocessor_config.json', data: Buffer.from('{}'), lfs: false },
  ]);
  // The same model in a subfolder, next to PyTorch files.
  hub.addRepo('test-org/mixed', [{ path: 'model_index.json', data: Buffer.from('{"_class_name":"StableDiffusionPipeline"}'), lfs: false }, ...filesFromFolder(TINY_DIR, 'onnx/')]);
  hub.addRepo('test-org/pytorch-only', [
    { path: 'model_index.json', data: Buffer.from('{}'), lfs: false },
    { path: 'unet/diffusion_pytorch_model.safetensors', data: Buffer.alloc(10), lfs: true },
  ]);
});
afterAll(async () => {
  await hub?.close();
});
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-mm-'));
  models = path.join(tmp, 'models');
  hub.faults = {};
  hub.log.length = 0;
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function opts(extra: Partial<DownloadOptions> = {}): DownloadOptions {
  // env: {} keeps this machine's proxy/token variables out of the tests.
  return { repo: REPO, modelsDir: models, endpoint: hub.url, env: {}, retryDelayMs: 10, progressIntervalMs: 0, ...extra };
}

async function failure(p: Promise<unknown>): Promise<ModelManagerError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelManagerError);
    return error as ModelManagerError;
  }
  throw new Error('expected a failure');
}

const staging = (): string => path.join(models, '.downloads', stagingId(REPO, 'main'));

describe('downloadModel', () => {
  it('downloads the pipeline files, verifies them, registers a supported model', async () => {
    const progress: DownloadProgress[] = [];
    const r = await downloadModel(opts({ onProgress: (p) => progress.push(p) }));
    expect(r.name).toBe('tiny-sd15-onnx');
    expect(r.dir).toBe(path.join(models, 'tiny-sd15-onnx'));
    expect(r.files).toBe(14);
    expect(r.model.supported).toBe(true);
    expect((await inspectModel(r.dir)).supported).toBe(true);
    // Byte-identical to the source; nothing extra was fetched.
    expect(await readFile(path.join(r.dir, UNET))).toEqual(await readFile(path.join(TINY_DIR, UNET)));
    expect(hub.log.some((q) => q.url.includes('safetensors') || q.url.includes('model_fp16') || q.url.includes('README') || q.url.includes('feature_extractor'))).toBe(false);
    const files = await readdir(path.join(r.dir, 'unet'));
    expect(files.sort()).toEqual(['config.json', 'model.onnx']);
    // Nothing left behind: no staging folder, no .part files.
    expect(await listPartialDownloads(models)).toEqual([]);
    const installed = await listInstalled(models);
    expect(installed.map((m) => m.name)).toEqual(['tiny-sd15-onnx']);
    expect(installed[0]!.source).toMatchObject({ repo: REPO, revision: 'main' });
    // Progress: bytes grow to the total.
    const last = progress.at(-1)!;
    expect(last.totalBytes).toBe(r.totalBytes);
    expect(last.bytes).toBe(r.totalBytes);
    expect(progress.some((p) => p.phase === 'downloading' && p.file === UNET)).toBe(true);
    // LFS files went through the redirect; no token was sent (none given).
    expect(hub.log.some((q) => q.url.startsWith('/cdn/'))).toBe(true);
    expect(hub.log.every((q) => q.headers.authorization === undefined)).toBe(true);
  });

  it('sends the token as a Bearer header (option or HF_TOKEN)', async () => {
    hub.faults = { token: 'hf_secret' };
    const e = await failure(downloadModel(opts()));
    expect(e.code).toBe('unauthorized');
    expect(e.message).toMatch(/token/);
    hub.log.length = 0;
    const r = await downloadModel(opts({ env: { HF_TOKEN: 'hf_secret' } }));
    expect(r.model.supported).toBe(true);
    await rm(r.dir, { recursive: true });
    expect((await downloadModel(opts({ token: 'hf_secret' }))).model.supported).toBe(true);
    const api = hub.log.filter((q) => q.url.startsWith('/api/') || q.url.includes('/resolve/'));
    expect(api.length).toBeGreaterThan(0);
    expect(api.every((q) => q.headers.authorization === 'Bearer hf_secret')).toBe(true);
  });

  it('follows tree pagination (Link rel="next")', async () => {
    hub.faults = { pageSize: 3 };
    const r = await downloadModel(opts());
    expect(r.files).toBe(14);
    const pages = hub.log.filter((q) => q.url.startsWith('/api/models/'));
    expect(pages.length).toBeGreaterThan(5);
    expect(pages.some((q) => q.url.includes('cursor='))).toBe(true);
  });

  it('resumes a dropped connection with Range (does not restart the file)', async () => {
    const size = (await stat(path.join(TINY_DIR, UNET))).size;
    hub.faults = { drop: { [UNET]: { afterBytes: 100_000, times: 1 } } };
    const logs: string[] = [];
    const r = await downloadModel(opts({ onLog: (m) => logs.push(m) }));
    expect(r.model.supported).toBe(true);
    const reqs = hub.fileRequests(UNET).filter((q) => q.url.startsWith('/cdn/'));
    expect(reqs.length).toBe(2);
    expect(reqs[0]!.headers.range).toBeUndefined();
    expect(reqs[1]!.headers.range).toMatch(/^bytes=\d+-$/);
    const from = Number(/bytes=(\d+)-/.exec(reqs[1]!.headers.range as string)![1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(100_000);
    expect(r.downloadedBytes).toBeLessThan(r.totalBytes + size); // not fetched twice
    expect(logs.some((l) => /retrying/.test(l))).toBe(true);
  });

  it('retries 503 with backoff, gives up after maxRetries keeping what arrived', async () => {
    hub.faults = { unavailable: { [UNET]: 2 } };
    const r = await downloadModel(opts());
    expect(r.model.supported).toBe(true);
    await rm(r.dir, { recursive: true });
    hub.faults = { unavailable: { [UNET]: 100 } };
    const e = await failure(downloadModel(opts({ maxRetries: 2 })));
    expect(e.code).toBe('network');
    expect(e.message).toMatch(/HTTP 503/);
    expect(e.message).toMatch(/run the download again/);
    expect(await listInstalled(models)).toEqual([]);
  });

  it('a wrong checksum is a clear error and nothing is registered', async () => {
    hub.faults = { corrupt: new Set([UNET]) };
    const e = await failure(downloadModel(opts()));
    expect(e.code).toBe('checksum');
    expect(e.message).toContain('sha256 mismatch');
    expect(e.message).toContain(UNET);
    expect(await listInstalled(models)).toEqual([]);
    // The bad file is gone, the good ones stay; a clean server then completes it.
    await expect(stat(path.join(staging(), `${UNET}.part`))).rejects.toThrow();
    hub.faults = {};
    hub.log.length = 0;
    const r = await downloadModel(opts());
    expect(r.model.supported).toBe(true);
    expect(hub.fileRequests('text_encoder/model.onnx')).toHaveLength(0);
  });

  it('a wrong small (git) file is caught by its blob sha1', async () => {
    hub.faults = { corrupt: new Set(['unet/config.json']) };
    const e = await failure(downloadModel(opts()));
    expect(e.code).toBe('checksum');
    expect(e.message).toContain('git sha1 mismatch');
  });

  it('404 repository and 404 file', async () => {
    const e1 = await failure(downloadModel(opts({ repo: 'test-org/nope' })));
    expect(e1.code).toBe('repo-not-found');
    expect(e1.message).toContain('test-org/nope');
    const e2 = await failure(downloadModel(opts({ revision: 'v9' })));
    expect(e2.code).toBe('repo-not-found');
    hub.faults = { missing: new Set(['vae_decoder/model.onnx']) };
    const e3 = await failure(downloadModel(opts()));
    expect(e3.code).toBe('file-not-found');
    expect(e3.message).toContain('vae_decoder/model.onnx');
    expect(await listInstalled(models)).toEqual([]);
  });

  it('not an ONNX repository: says so; suggests --subfolder; --subfolder works', async () => {
    const e = await failure(downloadModel(opts({ repo: 'test-org/pytorch-only' })));
    expect(e.code).toBe('not-onnx');
    expect(e.message).toMatch(/no \.onnx file/);
    const e2 = await failure(downloadModel(opts({ repo: 'test-org/mixed' })));
    expect(e2.code).toBe('not-onnx');
    expect(e2.message).toContain('--subfolder onnx');
    const r = await downloadModel(opts({ repo: 'test-org/mixed', subfolder: 'onnx' }));
    expect(r.name).toBe('mixed-onnx');
    expect(r.model.supported).toBe(true);
    expect(await readFile(path.join(r.dir, 'model_index.json'), 'utf8')).toBe(await readFile(path.join(TINY_DIR, 'model_index.json'), 'utf8'));
  });

  it('slow server: progress with speed and ETA, cancel mid-file, a re-run resumes', async () => {
    const unetHeld = new Gate(); // never opened: the cancel must come before the UNet's last chunk
    hub.faults = { slow: { chunk: 8192, delayMs: 5, files: new Set([UNET]), until: unetHeld.opened } };
    const controller = new AbortController();
    const progress: DownloadProgress[] = [];
    const p = downloadModel(
      opts({
        signal: controller.signal,
        onProgress: (e) => {
          progress.push(e);
          if (e.file === UNET && e.fileBytes > 150_000) controller.abort();
        },
      }),
    );
    const e = await failure(p);
    expect(e.code).toBe('cancelled');
    expect(e.name).toBe('AbortError');
    const mid = progress.filter((q) => q.file === UNET && q.phase === 'downloading' && q.fileBytes > 0 && q.fileBytes < q.fileTotal);
    expect(mid.length).toBeGreaterThan(3);
    expect(mid.at(-1)!.bytesPerSecond).toBeGreaterThan(0);
    expect(mid.at(-1)!.etaMs).toBeGreaterThan(0);
    const part = await stat(path.join(staging(), `${UNET}.part`));
    expect(part.size).toBeGreaterThan(100_000);
    expect(await listInstalled(models)).toEqual([]);
    const partial = await listPartialDownloads(models);
    expect(partial).toHaveLength(1);
    expect(partial[0]!.repo).toBe(REPO);

    hub.faults = {};
    hub.log.length = 0;
    const logs: string[] = [];
    const r = await downloadModel(opts({ onLog: (m) => logs.push(m) }));
    expect(r.model.supported).toBe(true);
    expect(logs.some((l) => l.startsWith('Resuming'))).toBe(true);
    const again = hub.fileRequests(UNET).filter((q) => q.url.startsWith('/cdn/'));
    expect(again).toHaveLength(1);
    expect(again[0]!.headers.range).toBe(`bytes=${part.size}-`);
    // Files finished before the cancel were not fetched again.
    expect(hub.fileRequests('text_encoder/model.onnx')).toHaveLength(0);
  });

  it('a server without Range support restarts the file (200) and still verifies', async () => {
    hub.faults = { drop: { [UNET]: { afterBytes: 50_000, times: 1 } }, noRange: true };
    const r = await downloadModel(opts());
    expect(r.model.supported).toBe(true);
    expect(await readFile(path.join(r.dir, UNET))).toEqual(await readFile(path.join(TINY_DIR, UNET)));
  });

  it('goes through HTTP_PROXY (absolute-form, no CONNECT) and honours NO_PROXY', async () => {
    const proxy = await new FakeProxy().start();
    try {
      const r = await downloadModel(opts({ env: { HTTP_PROXY: proxy.url } }));
      expect(r.model.supported).toBe(true);
      expect(proxy.seen.some((s) => s.startsWith(`GET ${hub.url}/api/models/${REPO}/tree/main`))).toBe(true);
      expect(proxy.seen.some((s) => s.includes('/resolve/main/unet/model.onnx'))).toBe(true);
      expect(proxy.seen.some((s) => s.startsWith('CONNECT'))).toBe(false);
      await rm(r.dir, { recursive: true });
      proxy.seen.length = 0;
      await downloadModel(opts({ env: { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' } }));
      expect(proxy.seen).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('checks free space first', async () => {
    const e = await failure(downloadModel(opts({ freeSpace: async () => 1000 })));
    expect(e.code).toBe('no-space');
    expect(e.message).toMatch(/needs .* more/);
    expect(hub.log.filter((q) => q.url.includes('/resolve/'))).toHaveLength(0);
  });

  it.runIf(process.platform === 'linux')('ENOSPC while writing is a clear error that keeps what was downloaded', async () => {
    // The UNet's .part is a link to /dev/full: every write fails with ENOSPC.
    const { mkdir, symlink } = await import('node:fs/promises');
    await mkdir(path.join(staging(), 'unet'), { recursive: true });
    await symlink('/dev/full', path.join(staging(), `${UNET}.part`));
    const e = await failure(downloadModel(opts()));
    expect(e.code).toBe('no-space');
    expect(e.message).toMatch(/disk is full/);
    expect(e.message).toMatch(/run the download again/);
    expect((await stat(path.join(staging(), 'text_encoder', 'model.onnx'))).isFile()).toBe(true);
    expect(await listInstalled(models)).toEqual([]);
    await rm(path.join(staging(), `${UNET}.part`));
    hub.log.length = 0;
    expect((await downloadModel(opts())).model.supported).toBe(true);
    expect(hub.fileRequests('text_encoder/model.onnx')).toHaveLength(0);
  });

  it('one download per repository across processes (lock file; a dead owner\'s lock is taken over)', async () => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(staging(), { recursive: true });
    await writeFile(path.join(staging(), '.lock'), String(process.ppid));
    const e = await failure(downloadModel(opts()));
    expect(e.code).toBe('busy');
    expect(e.message).toContain(`pid ${process.ppid}`);
    await writeFile(path.join(staging(), '.lock'), '999999999');
    expect((await downloadModel(opts())).model.supported).toBe(true);
  });

  it('refuses to overwrite an installed model of the same name', async () => {
    await downloadModel(opts());
    const e = await failure(downloadModel(opts()));
    expect(e.code).toBe('exists');
    const r = await downloadModel(opts({ name: 'second' }));
    expect(r.dir).toBe(path.join(models, 'second'));
  });
});
