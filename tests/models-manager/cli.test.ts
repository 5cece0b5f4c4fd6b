// The built CLI: models download / list / import / remove against the loopback fake hub.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot, runCli, tempDir } from '../cli/helpers.js';
import { FakeHub, filesFromFolder, TINY_DIR } from './fake-hub.js';

const REPO = 'test-org/tiny-sd15-onnx';

function newest(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n = Math.max(n, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return n;
}

/** Builds dist/ when the CLI or the model manager changed since (same lock as tests/cli/helpers.ts). */
function ensureBuilt(): void {
  const built = path.join(repoRoot, 'dist/cli/commands/models-manage.js');
  const sources = ['src-main/engine', 'src-main/cli', 'src-main/models-manager'].map((d) => newest(path.join(repoRoot, d)));
  const stale = (): boolean => !existsSync(built) || statSync(built).mtimeMs < Math.max(...sources);
  if (!stale()) return;
  const lock = path.join(repoRoot, 'dist/.cli-test-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('timed out waiting for another test file to build dist/');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    if (stale()) spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', path.join(repoRoot, 'tsconfig.engine.json')], { cwd: repoRoot, stdio: 'ignore' });
    if (!existsSync(built)) throw new Error('tsc did not produce dist/cli/commands/models-manage.js');
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

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
    hub.faults = { slow: { chunk: 4096, delayMs: 20, files: new Set(['unet/model.onnx']) } };
    const args = ['models', 'download', REPO, '--name', 'resumed'];
    let sent = false;
    const r = await runCli(args, {
      env,
      onStderr: (chunk, child) => {
        if (!sent && /unet\/model\.onnx/.test(chunk)) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 300);
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
