// Launches the built desktop app with Playwright's Electron driver: window hardening, the preload bridge, and a
// generate round-trip with a tiny model through IPC and the engine's utilityProcess. Skips (saying why) where no
// Electron binary exists, e.g. an install without network access.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudioApi } from '../../../src-main/shared/contract.js';
import { findElectron } from './find-electron.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const electron = findElectron(repoRoot);
if (electron.reason) console.log(`[electron] skipping the Electron launch tests: ${electron.reason}`);

type Win = typeof globalThis & { latentStudio: StudioApi };

describe.skipIf(electron.path === undefined)(`Electron app${electron.reason ? ` (skipped: ${electron.reason})` : ''}`, () => {
  let app: ElectronApplication;
  let page: Page;
  let userData: string;

  beforeAll(async () => {
    if (!existsSync(path.join(repoRoot, 'out', 'main', 'index.js'))) {
      execFileSync(process.execPath, [path.join(repoRoot, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: repoRoot, stdio: 'inherit' });
    }
    userData = await mkdtemp(path.join(os.tmpdir(), 'ls-electron-'));
    app = await _electron.launch({
      executablePath: electron.path!,
      args: [path.join(repoRoot, 'out', 'main', 'index.js'), ...(process.platform === 'linux' ? ['--no-sandbox'] : [])],
      cwd: repoRoot,
      env: { ...process.env, LATENT_STUDIO_MODELS_DIR: path.join(repoRoot, 'tests', 'models'), LATENT_STUDIO_USER_DATA: userData } as Record<string, string>,
      timeout: 60_000,
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    if (userData) await rm(userData, { recursive: true, force: true });
  });

  it('creates one hardened window', async () => {
    const url = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.webContents.getURL());
    expect(url).toMatch(/^app:\/\/studio\//);
    // nodeIntegration off, sandboxed, context-isolated: no Node in the page, only the narrow bridge.
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { module?: unknown }).module)).toBe('undefined');
    expect(await page.evaluate(() => Object.keys((globalThis as Win).latentStudio).sort())).toEqual(['host', 'invoke', 'on']);
  });

  it('enforces the CSP and denies new windows and navigation', async () => {
    expect(
      await page.evaluate(() => {
        try {
          return String((0, eval)('1 + 1'));
        } catch {
          return 'blocked';
        }
      }),
    ).toBe('blocked');
    expect(await page.evaluate(() => (globalThis as unknown as { open(u: string): unknown }).open('https://example.com/') === null)).toBe(true);
    const before = page.url();
    // Listen in main for the navigation attempt (registered before it is made): the app's own will-navigate
    // handler, added first, has run when this listener hears it, so the event says whether it was refused.
    type Refusal = { __navigationRefused?: Promise<boolean> };
    await app.evaluate(({ BrowserWindow }) => {
      (globalThis as Refusal).__navigationRefused = new Promise<boolean>((resolve) =>
        BrowserWindow.getAllWindows()[0]!.webContents.once('will-navigate', (event) => resolve(event.defaultPrevented)),
      );
    });
    await page.evaluate(() => {
      (globalThis as unknown as { location: { href: string } }).location.href = 'https://example.com/';
    });
    expect(await app.evaluate(() => (globalThis as Refusal).__navigationRefused)).toBe(true);
    expect(page.url()).toBe(before);
    expect(app.windows()).toHaveLength(1);
  });

  it('answers contract calls over IPC', async () => {
    const info = await page.evaluate(() => (globalThis as Win).latentStudio.invoke('getAppInfo'));
    expect(info).toMatchObject({ ok: true, value: { host: 'electron' } });
    const bad = await page.evaluate(() => (globalThis as Win).latentStudio.invoke('generate', { model: 'bundled:tiny-sd15', steps: 0 } as never));
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });
    const unknown = await page.evaluate(() => (globalThis as Win).latentStudio.invoke('rm' as never, undefined as never));
    expect(unknown).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
  });

  it('generates with a tiny model through the utilityProcess engine', async () => {
    const out = await page.evaluate(
      () =>
        new Promise<{ images: number; signature: number[]; previews: number; progress: number }>((resolve, reject) => {
          const api = (globalThis as Win).latentStudio;
          let previews = 0;
          let progress = 0;
          api.on('preview', () => previews++);
          api.on('progress', () => progress++);
          api.on('jobError', (e) => reject(new Error(e.error.message)));
          api.on('result', (r) => resolve({ images: r.images.length, signature: Array.from(r.images[0]!.png.subarray(0, 8)), previews, progress }));
          void api.invoke('generate', { model: 'bundled:tiny-sd15', prompt: 'a boat', width: 64, height: 64, steps: 4, seed: 1, sampler: 'euler' });
        }),
    );
    expect(out.images).toBe(1);
    expect(out.signature).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(out.progress).toBe(4);
    expect(out.previews).toBeGreaterThan(0);
  });
});
