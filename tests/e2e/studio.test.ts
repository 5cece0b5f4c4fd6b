// End-to-end: the built renderer in Chromium against the browser host with the tiny models.
// Skips (saying why) when Chromium or the web host is missing. Screenshots go to test-artifacts/e2e/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { browserMissingReason, launchChromium } from './support/browser.js';
import { buildRenderer } from './support/build-renderer.js';
import { hostMissingReason, startHost, type RunningHost } from './support/host.js';
import { drawStroke, gradientPng, openImage, recordTimeline, screenshot, selectModel, setNumber, timeline } from './support/page.js';

// LATENT_STUDIO_E2E_URL: use a host that is already running (its page address with #token=…).
const externalUrl = process.env.LATENT_STUDIO_E2E_URL;
const skipReason = browserMissingReason() ?? (externalUrl ? null : hostMissingReason());
if (skipReason) console.warn(`[e2e] skipping the studio browser tests: ${skipReason}`);

const mode = (page: Page) => page.textContent('[data-testid=mode]');

describe.skipIf(skipReason !== null)('studio in the browser host', () => {
  let host: RunningHost | null = null;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let pageUrl = '';

  beforeAll(async () => {
    let url = externalUrl;
    if (!url) {
      if (!process.env.LATENT_STUDIO_SKIP_RENDERER_BUILD) await buildRenderer();
      host = await startHost();
      url = host.url;
    }
    pageUrl = url;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
    await page.goto(url);
    await page.waitForSelector('[data-testid=prompt]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=model] option').length > 0);
    await recordTimeline(page);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  it('starts as text to image and counts prompt tokens', async () => {
    expect(await mode(page)).toContain('Text to image');
    await selectModel(page, 'tiny-inpaint');
    await page.fill('[data-testid=prompt]', 'a red fox in the snow');
    await expect.poll(() => page.textContent('[data-testid=prompt-tokens]')).toMatch(/^\s*\d+ \/ 75\s*$/);
    await screenshot(page, '01-start');
  });

  it('opens an image (img2img), draws a mask stroke (inpainting), undoes and redoes it', async () => {
    await openImage(page, await gradientPng(96, 64));
    await expect.poll(() => mode(page)).toContain('Image to image · 96×64');
    await drawStroke(page, [0.3, 0.5], [0.7, 0.5]);
    await expect.poll(() => mode(page)).toContain('Inpainting');
    await screenshot(page, '02-mask-stroke');
    await page.keyboard.press('Control+z');
    await expect.poll(() => mode(page)).toContain('Image to image');
    expect(await page.evaluate(() => (window as any).__latentStudio.studio.doc.mask.isEmpty())).toBe(true);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => mode(page)).toContain('Inpainting');
  });

  it('zooms and pans: wheel, Ctrl+1, Ctrl+0, Space-drag, middle mouse', async () => {
    const view = () => page.evaluate(() => {
      const v = (window as any).__latentStudio.studio.view;
      return { scale: v.scale, x: v.x, y: v.y };
    });
    await page.click('[data-testid=canvas]', { position: { x: 5, y: 5 }, button: 'middle' });
    const fitted = await view();
    await page.keyboard.press('Control+1');
    expect((await view()).scale).toBe(1);
    await page.keyboard.press('Control+0');
    expect(await view()).toEqual(fitted);
    const box = (await page.locator('[data-testid=canvas]').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -300);
    await expect.poll(async () => (await view()).scale).toBeGreaterThan(fitted.scale);
    await page.keyboard.press('Control+0');
    const masked = await page.evaluate(() => Array.from((window as any).__latentStudio.studio.doc.mask.data as Uint8Array).reduce((a, b) => a + b, 0));
    await page.keyboard.down('Space');
    await page.mouse.move(box.x + 300, box.y + 300);
    await page.mouse.down();
    await page.mouse.move(box.x + 340, box.y + 320, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Space');
    expect(await view()).toEqual({ ...fitted, x: fitted.x + 40, y: fitted.y + 20 });
    await page.mouse.move(box.x + 300, box.y + 300);
    await page.mouse.down({ button: 'middle' });
    await page.mouse.move(box.x + 280, box.y + 300, { steps: 4 });
    await page.mouse.up({ button: 'middle' });
    expect((await view()).x).toBe(fitted.x + 20);
    // Panning never painted.
    const after = await page.evaluate(() => Array.from((window as any).__latentStudio.studio.doc.mask.data as Uint8Array).reduce((a, b) => a + b, 0));
    expect(after).toBe(masked);
    await page.keyboard.press('Control+0');
  });

  it('generates: progress and at least one preview frame before the result layer', async () => {
    await setNumber(page, 'steps', 40);
    await timeline(page, true);
    await page.click('[data-testid=prompt]');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('[data-testid=result-bar]', { timeout: 120_000 });
    const t = await timeline(page);
    // img2img: about strength × steps denoising steps
    expect(t.labels.some((l) => /Step \d+ of \d+ · \d+ s left/.test(l))).toBe(true);
    expect(t.progress.length).toBeGreaterThan(0);
    expect(t.previewDrawn.length).toBeGreaterThan(0);
    expect(t.result.length).toBe(1);
    expect(t.previewDrawn[0]!).toBeLessThan(t.result[0]!);
    await screenshot(page, '04-result');
    expect(await page.textContent('[data-testid=result-bar]')).toMatch(/seed \d+/);
  });

  it('accepts the result into the image (undoable)', async () => {
    const before = await page.evaluate(() => (window as any).__latentStudio.studio.doc.image);
    await page.click('[data-testid=accept]');
    await expect.poll(() => page.isVisible('[data-testid=result-bar]')).toBe(false);
    const changed = await page.evaluate(() => (window as any).__latentStudio.studio.doc.history.labels.at(-1));
    expect(changed).toBe('Accept result');
    expect(before).toBeTruthy();
  });

  it('cancels a long run with Esc and stays usable', async () => {
    await setNumber(page, 'steps', 1000);
    await setNumber(page, 'batch', 50);
    await page.click('[data-testid=generate]');
    await expect.poll(() => page.textContent('[data-testid=progress-label]'), { timeout: 30_000 }).toMatch(/Image \d+\/50 · Step \d+ of \d+/);
    await screenshot(page, '05-progress');
    await page.click('[data-testid=canvas]', { position: { x: 5, y: 5 }, button: 'middle' }); // focus off the fields
    await page.keyboard.press('Escape');
    await expect.poll(() => page.textContent('[data-testid=notice]'), { timeout: 30_000 }).toContain('Cancelled');
    await screenshot(page, '06-cancelled');
    expect(await page.isEnabled('[data-testid=generate]')).toBe(true);
    expect(await page.isVisible('[data-testid=result-bar]')).toBe(false);
    await setNumber(page, 'steps', 4);
    await setNumber(page, 'batch', 1);
  });

  it('shows an invalid model as a readable error, and the next run works', async () => {
    await selectModel(page, 'bad-sdxl-like');
    await page.click('[data-testid=generate]');
    const error = await page.waitForSelector('[data-testid=error]', { timeout: 60_000 });
    const text = (await error.textContent()) ?? '';
    expect(text.length).toBeGreaterThan(10);
    expect(text).not.toMatch(/undefined|\[object Object\]/);
    await screenshot(page, '07-bad-model');
    await selectModel(page, 'tiny-inpaint');
    await page.click('[data-testid=generate]');
    await page.waitForSelector('[data-testid=result-bar]', { timeout: 120_000 });
    expect(await page.isVisible('[data-testid=error]')).toBe(false);
    await page.click('[data-testid=discard]');
  });

  it('outpaints: the canvas grows by multiples of 8 and the new area is mask', async () => {
    await page.evaluate(() => (window as any).__latentStudio.studio.doc.clearMask());
    await page.fill('[data-testid=outpaint-amount]', '30');
    await page.click('[data-testid=outpaint]');
    await expect.poll(() => mode(page)).toContain('Inpainting · 128×64');
    await screenshot(page, '08-outpaint');
  });

  it('live mode re-runs after an edit and applies its result with one key', async () => {
    await page.check('[data-testid=live]');
    await drawStroke(page, [0.1, 0.2], [0.3, 0.3]);
    await expect.poll(() => page.textContent('[data-testid=result-bar]').catch(() => ''), { timeout: 60_000 }).toContain('Live result');
    const runs = await page.evaluate(() => (window as any).__latentStudio.studio.live.runs);
    expect(runs).toBeGreaterThanOrEqual(1);
    await screenshot(page, '09-live');
    await page.click('[data-testid=canvas]', { position: { x: 5, y: 5 }, button: 'middle' });
    await page.keyboard.press('a');
    expect(await page.evaluate(() => (window as any).__latentStudio.studio.doc.history.labels.at(-1))).toBe('Accept result');
    await page.uncheck('[data-testid=live]');
  });

  it('moves the token out of the address: not in the URL nor the history, and a reload still connects', async () => {
    const token = new URLSearchParams(new URL(pageUrl).hash.slice(1)).get('token')!;
    const tab = await browser.newPage();
    const connected = () => tab.waitForFunction(() => document.querySelectorAll('[data-testid=model] option').length > 0);
    try {
      await tab.goto(pageUrl);
      await connected();
      expect(await tab.evaluate(() => location.hash)).toBe('');
      const cdp = await tab.context().newCDPSession(tab);
      const { entries } = (await cdp.send('Page.getNavigationHistory')) as { entries: Array<{ url: string }> };
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) expect(entry.url).not.toContain(token);
      await tab.reload();
      await connected();
      expect(tab.url()).not.toContain(token);
    } finally {
      await tab.close();
    }
  });

  it('raised no page errors (nor CSP violations or failed loads)', () => {
    expect(pageErrors).toEqual([]);
  });
});
