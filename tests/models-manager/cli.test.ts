// The built CLI: models download / list / import / remove against the loopback fake hub.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot, runCli, tempDir } from '../cli/helpers.js';
import { FakeHub, filesFromFolder, Gate, TINY_DIR } from './fake-hub.js';

const REPO = 'test-org/tiny-sd15-onnx';

describe('latent-studio models (manager)', () => {
  let hub: FakeHub;
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    ensureBuilt();
    hub = await new FakeHub().start();
    hub.addRepo(REPO, filesFromFolder(TINY_DIR));
    tmp = tempDir('ls-mm-cli-');
    env = { HF_ENDPOINT: hub.url, HF_TOKEN: '', HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', LATENT_STUDIO_MODELS_DIR: path.join(tmp, 'models') };
  }, 240_000);
  afterAll(async () => {
    await hub?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('download: progress on stderr, folder on stdout; list shows it; a second download of it fails clearly', async () => {
    const r = await runCli(['models', 'download', REPO, '--token', 'hf_abc'], { env });
    expect(r.stderr).toContain(`Downloading ${REPO}`);
    expect(r.stderr).toMatch(/\[\d+\/14\] /);
    expect(r.stderr).toMatch(/Installed tiny-sd15-onnx: 14 files/);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(path.join(tmp, 'models', 'tiny-sd15-onnx'));
    expect(hub.log.filter((q) => q.url.startsWith('/api/')).every((q) => q.headers.authorization === 'Bearer hf_abc')).toBe(true);

    const list = await runCli(['models', 'list', '--json'], { env });
    expect(list.code).toBe(0);
    const parsed = JSON.parse(list.stdout);
    expect(parsed.modelsDir).toBe(path.join(tmp, 'models'));
    expect(parsed.models.map((m: { name: string; supported: boolean }) => [m.name, m.supported])).toEqual([['tiny-sd15-onnx', true]]);
    const text = await runCli(['models', 'list'], { env });
    expect(text.stdout).toMatch(/tiny-sd15-onnx {2}\(sd1, .*from test-org\/tiny-sd15-onnx@main\)/);

    const again = await runCli(['models', 'download', REPO], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/error: A model named "tiny-sd15-onnx" is already in/);
  });

  it('404 repository: exit 2 with a clear message', async () => {
    const r = await runCli(['models', 'download', 'test-org/missing'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: Repository test-org\/missing \(revision main\) was not found/);
  });

  it('Ctrl+C stops a slow download (exit 130); the same command resumes it', async () => {
    const unetHeld = new Gate(); // never opened: the UNet cannot finish before Ctrl+C
    hub.faults = { slow: { chunk: 4096, delayMs: 20, files: new Set(['unet/model.onnx']), until: unetHeld.opened } };
    const args = ['models', 'download', REPO, '--name', 'resumed'];
    let sent = false;
    const r = await runCli(args, {
      env,
      onStderr: (chunk, child) => {
        if (!sent && /unet\/model\.onnx/.test(chunk)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/run the same command again to resume/);
    const list = JSON.parse((await runCli(['models', 'list', '--json'], { env })).stdout);
    expect(list.partialDownloads).toHaveLength(1);
    hub.faults = {};
    hub.log.length = 0;
    const again = await runCli(args, { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/Resuming test-org\/tiny-sd15-onnx/);
    const unet = hub.fileRequests('unet/model.onnx').filter((q) => q.url.startsWith('/cdn/'));
    expect(unet).toHaveLength(1);
    expect(unet[0]!.headers.range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it('import (copy and --link), remove', async () => {
    const models = path.join(tmp, 'm2');
    const imp = await runCli(['models', 'import', TINY_DIR, '--models-dir', models], { env });
    expect(imp.code).toBe(0);
    expect(imp.stdout.trim()).toBe(path.join(models, 'tiny-sd15'));
    const link = await runCli(['models', 'import', TINY_DIR, '--name', 'tiny-link', '--link', '--models-dir', models], { env });
    expect(link.code).toBe(0);
    const list = JSON.parse((await runCli(['models', 'list', '--json', '--models-dir', models], { env })).stdout);
    expect(list.models.map((m: { name: string; linkTarget?: string }) => [m.name, m.linkTarget ?? null])).toEqual([
      ['tiny-link', TINY_DIR],
      ['tiny-sd15', null],
    ]);
    const bad = await runCli(['models', 'import', path.join(repoRoot, 'tests/models/bad-sdxl-like'), '--models-dir', models], { env });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/error: .*not a model the engine can use/);
    const rm1 = await runCli(['models', 'remove', 'tiny-link', '--models-dir', models], { env });
    expect(rm1.code).toBe(0);
    expect(rm1.stdout).toMatch(/link only/);
    expect(existsSync(path.join(TINY_DIR, 'unet', 'model.onnx'))).toBe(true);
    const rm2 = await runCli(['models', 'remove', 'nope', '--models-dir', models], { env });
    expect(rm2.code).toBe(2);
    expect(rm2.stderr).toMatch(/No model named "nope"/);
  });
});
