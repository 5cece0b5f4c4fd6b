// End-to-end: the gallery and autosave in Chromium against the browser host (tiny models). The output folder
// is seeded with 1,500 images first (the grid must stay virtualized), then a generated image is found,
// searched, starred, deleted and restored, sent to the canvas (button and drag), a dropped AUTOMATIC1111 PNG
// fills the panel, and a reload restores the autosaved canvas and prompt.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../src-main/engine/image/png.js';
import { browserMissingReason, launchChromium } from './support/browser.js';
import { buildRenderer } from './support/build-renderer.js';
import { hostMissingReason, MODELS_DIR, RENDERER_DIR } from './support/host.js';
import { screenshot, selectModel } from './support/page.js';

const skipReason = browserMissingReason() ?? hostMissingReason();
if (skipReason) console.warn(`[e2e] skipping the gallery browser tests: ${skipReason}`);

const SEEDED = 1500;

/** An A1111 PNG; `ours` adds our JSON chunk (an earlier run's image: the gallery adopts only its own files). */
async function png(prompt: string, seed: number, ours = false, size = 16): Promise<Uint8Array> {
  const px = new Uint8Array(size * size * 3).map((_, i) => (i * 7 + seed * 13) & 255);
  const infotext = `${prompt}\nNegative prompt: blurry\nSteps: 14, Sampler: Euler a, CFG scale: 6, Seed: ${seed}, Size: ${size}x${size}, Model: seeded`;
  const chunk = { keyword: 'latent-studio', text: JSON.stringify({ prompt, seed: String(seed) }), international: true };
  return encodePng(px, size, size, 3, [{ keyword: 'parameters', text: infotext }, ...(ours ? [chunk] : [])]);
}

describe.skipIf(skipReason !== null)('gallery and autosave in the browser host', () => {
  let scratch: string;
  let host: { url: string; close(): Promise<void>; service: { invoke(channel: unknown, payload?: unknown): Promise<{ ok: boolean; value?: unknown }> } };
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const studio = (fn: string) => page.evaluate(`(() => { const s = window.__latentStudio.studio; return ${fn}; })()`);

  beforeAll(async () => {
    if (!process.env.LATENT_STUDIO_SKIP_RENDERER_BUILD || !existsSync(join(RENDERER_DIR, 'index.html'))) await buildRenderer();
    scratch = mkdtempSync(join(tmpdir(), 'latent-studio-e2e-gallery-'));
    const out = join(scratch, 'outputs', '2025-01-01');
    mkdirSync(out, { recursive: true });
    const one = await png('seeded castle', 1, true);
    for (let i = 0; i < SEEDED; i++) writeFileSync(join(out, `20250101-${String(100000 + i)}-000-${i}.png`), i % 10 === 0 ? await png(`seeded castle ${i}`, i, true) : one);
    const { startWebHost } = await import('../../src-main/web/index.js');
    const h = await startWebHost({ host: '127.0.0.1', port: 0, rendererDir: RENDERER_DIR, modelsDir: MODELS_DIR, settingsFile: join(scratch, 'settings.json') });
    await h.service.gallery.gallery();
    await h.service.gallery.reconciled; // the seeded PNGs are indexed from the files
    host = h;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(h.url);
    await page.waitForSelector('[data-testid=prompt]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=model] option').length > 0);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('a generated image is saved and shows first in a virtualized grid', async () => {
    await selectModel(page, 'tiny-sd15');
    await studio('s.resizeCanvas(64, 64)');
    await page.fill('[data-testid=prompt]', 'a red fox in the snow');
    await page.click('[data-testid=generate]');
    await page.waitForSelector('[data-testid=result-bar]', { timeout: 60_000 });
    await page.click('[data-testid=gallery-toggle]');
    await expect.poll(() => page.textContent('[data-testid=gallery-count]')).toBe(`${SEEDED + 1} images`);
    const first = page.locator('[data-testid=gallery-cell]').first();
    expect(await first.getAttribute('title')).toBe('a red fox in the snow');
    await expect.poll(() => first.locator('img').count()).toBe(1); // the thumbnail arrived
    const cells = await page.locator('[data-testid=gallery-cell]').count();
    expect(cells).toBeGreaterThan(6);
    expect(cells).toBeLessThan(120); // only what is visible (+ a margin), not 1,501
    await page.locator('[data-testid=gallery-grid]').evaluate((el) => (el.scrollTop = 40 * 116));
    await expect.poll(() => page.locator('[data-testid=gallery-cell]').count()).toBeLessThan(120);
    await page.locator('[data-testid=gallery-grid]').evaluate((el) => (el.scrollTop = 0));
    await screenshot(page, 'gallery-01-grid');
  });

  it('searches prompts and filters by model', async () => {
    await page.fill('[data-testid=gallery-search]', 'fox snow');
    await expect.poll(() => page.textContent('[data-testid=gallery-count]')).toBe('1 image');
    await page.fill('[data-testid=gallery-search]', 'castle 1490');
    await expect.poll(() => page.textContent('[data-testid=gallery-count]')).toBe('1 image');
    await page.fill('[data-testid=gallery-search]', '');
    await page.selectOption('[data-testid=gallery-model]', 'seeded');
    await expect.poll(() => page.textContent('[data-testid=gallery-count]')).toBe(`${SEEDED} images`);
    await page.selectOption('[data-testid=gallery-model]', '');
    await expect.poll(() => page.textContent('[data-testid=gallery-count]')).toBe(`${SEEDED + 1} images`);
  });

  it('star, use seed / parameters, delete with undo', async () => {
    await page.locator('[data-testid=gallery-cell]').first().click();
    await page.click('[data-testid=gallery-star]');
    await expect.poll(() => page.locator('[data-testid=gallery-cell]').first().locator('.star').count()).toBe(1);
    await page.fill('[data-testid=prompt]', 'something else');
    await page.click('[data-testid=gallery-use]');
    await expect.poll(() => page.inputValue('[data-testid=prompt]')).toBe('a red fox in the snow');
    await page.click('[data-testid=gallery-delete]');
    await expect.poll(() => page.textContent('[data-testid=gallery-count]')).toBe(`${SEEDED} images`);
    await page.click('[data-testid=gallery-undo]');
    await expect.poll(() => page.textContent('[data-testid=gallery-count]')).toBe(`${SEEDED + 1} images`);
    expect(await page.locator('[data-testid=gallery-cell]').first().getAttribute('title')).toBe('a red fox in the snow');
  });

  it('sends an image to the canvas (button and drag onto the canvas)', async () => {
    await studio('(s.results.take(), s.doc.removeImage(), s.resizeCanvas(128, 128))');
    await page.locator('[data-testid=gallery-cell]').first().click();
    await page.click('[data-testid=gallery-canvas]');
    await expect.poll(() => page.textContent('[data-testid=mode]')).toContain('Image to image · 64×64');
    await studio('(s.doc.removeImage(), s.resizeCanvas(128, 128))');
    await page.dragAndDrop('[data-testid=gallery-cell] >> nth=1', '[data-testid=canvas]');
    await expect.poll(() => page.textContent('[data-testid=mode]')).toContain('Image to image · 16×16');
  });

  it('a dropped AUTOMATIC1111 PNG fills the panel', async () => {
    const bytes = [...(await png('a dropped lighthouse, dusk', 4242))];
    await page.evaluate((data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], 'a1111.png', { type: 'image/png' }));
      const target = document.querySelector('[data-testid=gallery]')!;
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    await expect.poll(() => page.inputValue('[data-testid=prompt]')).toBe('a dropped lighthouse, dusk');
    expect(await studio('[s.settings.seed, s.settings.seedMode, s.settings.steps, s.settings.cfgScale, s.settings.sampler]')).toEqual(['4242', 'fixed', 14, 6, 'euler-ancestral']);
    expect(await page.textContent('[data-testid=gallery-message]')).toContain('AUTOMATIC1111');
    await screenshot(page, 'gallery-02-dropped');
  });

  it('autosave: a reload restores the canvas and the prompt', async () => {
    await page.fill('[data-testid=prompt]', 'remember me');
    // The autosave (about a second after the last change) has reached the host: the stored document has the
    // new prompt and the canvas image.
    const stored = async (): Promise<[unknown, boolean]> => {
      const r = await host.service.invoke('autosaveLoad', undefined);
      const d = r.ok ? (r.value as { document: { settings: Record<string, unknown>; image: string | null } } | null)?.document : undefined;
      return [d?.settings['prompt'], d?.image != null];
    };
    await expect.poll(stored).toEqual(['remember me', true]);
    await page.reload();
    await page.waitForSelector('[data-testid=prompt]');
    await expect.poll(() => page.inputValue('[data-testid=prompt]')).toBe('remember me');
    await expect.poll(() => page.textContent('[data-testid=mode]')).toContain('Image to image · 16×16');
    expect(pageErrors).toEqual([]);
  });
});
