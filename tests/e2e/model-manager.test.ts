// End-to-end: the Model Manager panel in Chromium against the browser host, downloading from a loopback fake
// hub (tests/models-manager/fake-hub.ts): progress with speed/ETA, cancel, resume, the new model in the
// picker, import by path, remove with confirmation. Skips (saying why) when Chromium is missing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHub, filesFromFolder, Gate, TINY_DIR } from '../models-manager/fake-hub.js';
import { browserMissingReason, launchChromium } from './support/browser.js';
import { buildRenderer } from './support/build-renderer.js';
import { hostMissingReason, MODELS_DIR, RENDERER_DIR } from './support/host.js';
import { screenshot } from './support/page.js';

const REPO = 'test-org/tiny-sd15-onnx';
const skipReason = browserMissingReason() ?? hostMissingReason();
if (skipReason) console.warn(`[e2e] skipping the model manager browser test: ${skipReason}`);

describe.skipIf(skipReason !== null)('model manager in the browser host', () => {
  let hub: FakeHub;
  let host: { url: string; close(): Promise<void> } | null = null;
  let browser: Browser;
  let page: Page;
  let scratch: string;
  const savedEndpoint = process.env.HF_ENDPOINT;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    hub = await new FakeHub().start();
    hub.addRepo(REPO, filesFromFolder(TINY_DIR));
    // The host runs in this process and reads HF_ENDPOINT when a download starts.
    process.env.HF_ENDPOINT = hub.url;
    scratch = mkdtempSync(join(tmpdir(), 'latent-studio-e2e-mm-'));
    writeFileSync(join(scratch, 'settings.json'), JSON.stringify({ userModelsDir: join(scratch, 'user-models') }));
    if (!process.env.LATENT_STUDIO_SKIP_RENDERER_BUILD) await buildRenderer();
    const { startWebHost } = await import('../../src-main/web/index.js');
    host = await startWebHost({ host: '127.0.0.1', port: 0, rendererDir: RENDERER_DIR, modelsDir: MODELS_DIR, settingsFile: join(scratch, 'settings.json') });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(host.url);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=model] option').length > 0);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await hub?.close();
    if (savedEndpoint === undefined) delete process.env.HF_ENDPOINT;
    else process.env.HF_ENDPOINT = savedEndpoint;
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('downloads with progress, cancels, resumes, and the model appears in the picker', async () => {
    await page.click('[data-testid=open-models]');
    await expect.poll(() => page.textContent('[data-testid=mm-folder]')).toBe(join(scratch, 'user-models'));
    const unetHeld = new Gate(); // never opened: the download cannot finish before the cancel click
    hub.faults = { slow: { chunk: 4096, delayMs: 15, files: new Set(['unet/model.onnx']), until: unetHeld.opened } };
    await page.fill('[data-testid=mm-repo]', REPO);
    await page.click('[data-testid=mm-download]');
    await page.waitForFunction(() => /unet\/model\.onnx .*\/s/.test(document.querySelector('[data-testid=mm-progress]')?.textContent ?? ''));
    expect(await page.textContent('[data-testid=mm-progress]')).toMatch(/left/);
    const bar = Number(await page.getAttribute('[role=progressbar]', 'aria-valuenow'));
    expect(bar).toBeGreaterThan(0);
    await screenshot(page, 'mm-01-downloading');
    await page.click('[data-testid=mm-cancel]');
    await expect.poll(() => page.textContent('[data-testid=mm-finished]')).toMatch(/Cancelled/);
    expect(await page.locator('[data-testid=mm-download-item]').count()).toBe(0);

    hub.faults = {};
    hub.log.length = 0;
    await page.fill('[data-testid=mm-repo]', REPO);
    await page.click('[data-testid=mm-download]');
    await expect.poll(() => page.locator('[data-testid=mm-finished][data-ok=true]').count(), { timeout: 30_000 }).toBe(1);
    const unet = hub.fileRequests('unet/model.onnx').filter((q) => q.url.startsWith('/cdn/'));
    expect(unet[0]?.headers.range).toMatch(/^bytes=[1-9]/);
    await expect.poll(() => page.locator('[data-testid=mm-model][data-id="user:tiny-sd15-onnx"]').count()).toBe(1);
    const options = await page.$$eval('[data-testid=model] option', (els) => els.map((e) => (e as HTMLOptionElement).value));
    expect(options).toContain('user:tiny-sd15-onnx');
    await screenshot(page, 'mm-02-downloaded');
  });

  it('imports a folder by path and removes it after confirming', async () => {
    await page.fill('[data-testid=mm-import-path]', TINY_DIR);
    await page.click('[data-testid=mm-import]');
    const row = '[data-testid=mm-model][data-id="user:tiny-sd15"]';
    await expect.poll(() => page.locator(row).count()).toBe(1);
    await page.click(`${row} [data-testid=mm-remove]`);
    expect(await page.textContent(`${row} [data-testid=mm-remove]`)).toMatch(/Confirm remove/);
    expect(await page.locator(row).count()).toBe(1);
    await page.click(`${row} [data-testid=mm-remove]`);
    await expect.poll(() => page.locator(row).count()).toBe(0);
    // A bad repository shows the host's message.
    await page.fill('[data-testid=mm-repo]', 'test-org/missing');
    await page.click('[data-testid=mm-download]');
    await expect.poll(() => page.textContent('[data-testid=mm-finished]')).toMatch(/^test-org\/missing: Repository not found: Repository test-org\/missing \(revision main\) was not found/);
    // A call that fails at once (same repository twice is fine; a bad id is refused) shows the banner.
    await page.fill('[data-testid=mm-repo]', 'not a repo id');
    await page.click('[data-testid=mm-download]');
    await expect.poll(() => page.textContent('[data-testid=model-manager] [data-testid=error]')).toMatch(/repository id/);
    await screenshot(page, 'mm-03-error');
    expect(pageErrors).toEqual([]);
  });
});
