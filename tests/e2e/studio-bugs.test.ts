// End-to-end: the studio bugs of issue 10, each with the check that would have caught it, in Chromium against the
// browser host with the tiny models. Waits on conditions (locator states, expect.poll on studio state), never on
// time. Screenshots at 1440×900 and 1024×700 go to /tmp/studio-bugs-*.png (and test-artifacts/e2e/).
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissingReason, launchChromium } from './support/browser.js';
import { buildRenderer } from './support/build-renderer.js';
import { hostMissingReason, startHost, type RunningHost } from './support/host.js';
import { drawStroke, gradientPng, openImage, screenshot, selectModel, setNumber } from './support/page.js';

const skipReason = browserMissingReason() ?? hostMissingReason();
if (skipReason) console.warn(`[e2e] skipping the studio bug tests: ${skipReason}`);

type Box = { x: number; y: number; width: number; height: number };

describe.skipIf(skipReason !== null)('studio bugs (issue 10)', () => {
  let host: RunningHost;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const studio = <T>(expr: string): Promise<T> => page.evaluate(`(() => { const s = window.__latentStudio.studio; return ${expr}; })()`) as Promise<T>;
  const mode = () => page.textContent('[data-testid=mode]');
  /** The text of an element, or null while it is not there (no waiting for it). */
  const textOf = (sel: string) => page.evaluate((q) => document.querySelector(q)?.textContent ?? null, sel);
  /** Two animation frames: Konva has drawn what the state asked for. */
  const drawn = () => page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
  /** The document's rectangle on the page. */
  const docBox = () =>
    page.evaluate(() => {
      const s = (window as any).__latentStudio.studio;
      const box = document.querySelector('[data-testid=canvas]')!.getBoundingClientRect();
      return { x: box.left + s.view.x, y: box.top + s.view.y, width: s.doc.width * s.view.scale, height: s.doc.height * s.view.scale };
    });
  const box = async (sel: string): Promise<Box> => (await page.locator(sel).boundingBox())!;
  /** The RGB of the screen pixel over document point (fx, fy) (fractions of the document). */
  async function pixelAt(fx: number, fy: number): Promise<number[]> {
    const d = await docBox();
    const clip = { x: Math.floor(d.x + fx * d.width), y: Math.floor(d.y + fy * d.height), width: 1, height: 1 };
    const png = await page.screenshot({ clip });
    return [...(await sharp(png).removeAlpha().raw().toBuffer())];
  }
  /** The screen pixels inside the document, less the edge rows and columns a picture only partly covers. */
  async function docPixels(): Promise<Buffer> {
    const d = await docBox();
    const x0 = Math.ceil(d.x) + 2;
    const y0 = Math.ceil(d.y) + 2;
    const png = await page.screenshot({ clip: { x: x0, y: y0, width: Math.floor(d.x + d.width) - 2 - x0, height: Math.floor(d.y + d.height) - 2 - y0 } });
    return sharp(png).removeAlpha().raw().toBuffer();
  }
  /** Pointer off the canvas (no brush cursor in the pictures) and focus on nothing. */
  async function away() {
    await page.mouse.move(2, 2);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  }
  async function generateResult() {
    await page.click('[data-testid=generate]');
    await page.waitForSelector('[data-testid=result-bar]', { timeout: 120_000 });
  }
  const within = (inner: Box, outer: Box) =>
    inner.x >= outer.x - 0.5 && inner.y >= outer.y - 0.5 && inner.x + inner.width <= outer.x + outer.width + 0.5 && inner.y + inner.height <= outer.y + outer.height + 0.5;
  const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

  beforeAll(async () => {
    if (!process.env.LATENT_STUDIO_SKIP_RENDERER_BUILD) await buildRenderer();
    host = await startHost();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
    await page.goto(host.url);
    await page.waitForSelector('[data-testid=prompt]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=model] option').length > 0);
    await selectModel(page, 'tiny-inpaint');
    await setNumber(page, 'steps', 4);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  it('a first run explains itself: a hint on the empty canvas whose example prompts fill the prompt', async () => {
    const hint = page.locator('[data-testid=first-run-hint]');
    await hint.waitFor({ state: 'visible' });
    expect(await hint.textContent()).toMatch(/demo model draws one coloured shape/);
    await page.screenshot({ path: '/tmp/studio-bugs-first-run-1440.png' });
    const example = page.locator('[data-testid=example-prompt]').first();
    const text = (await example.textContent())!.trim();
    await example.click();
    expect(await page.inputValue('[data-testid=prompt]')).toBe(text);
    await hint.waitFor({ state: 'hidden' });
  });

  it('a mask on an empty canvas is reported; accepting a result clears it (undoable), so the next run is not inpainting', async () => {
    await drawStroke(page, [0.2, 0.5], [0.8, 0.5]);
    await page.locator('[data-testid=mask-notice]').waitFor({ state: 'visible' });
    expect(await mode()).toContain('Text to image');
    await screenshot(page, 'bugs-mask-notice');
    await generateResult();
    await page.click('[data-testid=accept]');
    await expect.poll(mode).toContain('Image to image');
    expect(await studio<boolean>('s.doc.mask.isEmpty()')).toBe(true);
    await page.locator('[data-testid=mask-notice]').waitFor({ state: 'hidden' });
    await away();
    await page.keyboard.press('Control+z');
    await expect.poll(mode).toContain('Text to image');
    expect(await studio<boolean>('s.doc.mask.isEmpty()')).toBe(false);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(mode).toContain('Image to image');
    expect(await studio<boolean>('s.doc.mask.isEmpty()')).toBe(true);
  });

  it('the mask is drawn above a pending result: a new stroke on it shows', async () => {
    await openImage(page, await gradientPng(96, 64));
    await expect.poll(mode).toContain('Image to image · 96×64');
    await generateResult();
    await drawStroke(page, [0.3, 0.5], [0.7, 0.5]);
    await expect.poll(mode).toContain('Inpainting');
    await away();
    await drawn();
    const withMask = await pixelAt(0.5, 0.5);
    await studio('(s.maskVisible = false, true)');
    await drawn();
    const withoutMask = await pixelAt(0.5, 0.5);
    expect(withMask).not.toEqual(withoutMask);
    await studio('(s.maskVisible = true, true)');
    await screenshot(page, 'bugs-mask-over-result');
  });

  it('a pending result is drawn exactly as it looks once accepted (same smoothing)', async () => {
    await studio('(s.doc.clearMask(), true)');
    await away();
    expect(await studio<number>('s.view.scale')).toBeGreaterThan(1);
    await drawn();
    const pending = await docPixels();
    await page.click('[data-testid=accept]');
    await page.locator('[data-testid=result-bar]').waitFor({ state: 'hidden' });
    await away();
    await drawn();
    const accepted = await docPixels();
    expect(pending.length).toBe(accepted.length);
    let differing = 0;
    for (let i = 0; i < pending.length; i++) if (pending[i] !== accepted[i]) differing++;
    expect(differing).toBe(0);
  });

  it('during inpainting the preview covers only the masked area', async () => {
    await drawStroke(page, [0.1, 0.1], [0.3, 0.3]);
    await expect.poll(mode).toContain('Inpainting');
    await away();
    await drawn();
    const outside = await pixelAt(0.85, 0.85);
    const drawnBefore = await page.evaluate(() => (window as any).__latentStudio.stats.previewsDrawn as number);
    await setNumber(page, 'steps', 1000);
    await page.click('[data-testid=generate]');
    await expect.poll(() => page.evaluate(() => (window as any).__latentStudio.stats.previewsDrawn as number), { timeout: 60_000 }).toBeGreaterThan(drawnBefore + 1);
    await away();
    await drawn();
    expect(await pixelAt(0.85, 0.85)).toEqual(outside);
    await screenshot(page, 'bugs-inpaint-preview');
    await page.keyboard.press('Escape');
    await page.locator('[data-testid=notice]').waitFor({ state: 'visible', timeout: 60_000 });
    await setNumber(page, 'steps', 4);
  });

  it('a notice leaves when dismissed, and when the next job starts', async () => {
    expect(await page.textContent('[data-testid=notice]')).toContain('Cancelled');
    await page.click('[data-testid=notice-dismiss]');
    await page.locator('[data-testid=notice]').waitFor({ state: 'hidden' });
    await setNumber(page, 'steps', 1000);
    await page.click('[data-testid=generate]');
    await page.locator('[data-testid=progress]').waitFor({ state: 'visible' });
    await away();
    await page.keyboard.press('Escape');
    await expect.poll(() => textOf('[data-testid=notice]'), { timeout: 60_000 }).toContain('Cancelled');
    await setNumber(page, 'steps', 4);
    await page.click('[data-testid=generate]');
    // The click started the job, and that retired the old notice (whatever the new job says when it ends).
    expect((await textOf('[data-testid=notice]')) ?? '').not.toContain('Cancelled');
    await page.waitForSelector('[data-testid=result-bar]', { timeout: 120_000 });
  });

  it('Fit uses the free area and the view re-fits when the gallery opens and closes', async () => {
    const check = async () => {
      const canvas = await box('[data-testid=canvas]');
      const d = await docBox();
      expect(within(d, canvas)).toBe(true);
      // Centred across the canvas, and clear of the floating controls.
      expect(Math.abs(d.x + d.width / 2 - (canvas.x + canvas.width / 2))).toBeLessThanOrEqual(1);
      for (const sel of ['[data-testid=mode]', '[data-testid=gallery-toggle]', '[data-testid=open-models]', '[data-testid=result-bar]']) {
        if (await page.isVisible(sel)) expect(overlaps(d, await box(sel)), sel).toBe(false);
      }
    };
    await away();
    await page.keyboard.press('Control+0');
    await check();
    const closedX = (await docBox()).x;
    await page.click('[data-testid=gallery-toggle]');
    await page.locator('[data-testid=gallery]').waitFor({ state: 'visible' });
    await expect.poll(async () => (await docBox()).x).not.toBe(closedX);
    await check();
    await page.screenshot({ path: '/tmp/studio-bugs-gallery-1440.png' });
    await page.click('[data-testid=gallery-toggle]');
    await page.locator('[data-testid=gallery]').waitFor({ state: 'hidden' });
    await expect.poll(async () => (await docBox()).x).toBe(closedX);
    await check();
  });

  it('Delete with a gallery thumbnail selected deletes that image, not the canvas result', async () => {
    await page.click('[data-testid=gallery-toggle]');
    const cells = page.locator('[data-testid=gallery-cell]');
    await cells.first().waitFor({ state: 'visible' });
    const countText = async () => Number((await page.textContent('[data-testid=gallery-count]'))!.split(' ')[0]);
    const before = await countText();
    await cells.first().click();
    await page.keyboard.press('Delete');
    await expect.poll(countText).toBe(before - 1);
    expect(await page.isVisible('[data-testid=result-bar]')).toBe(true);
    // Focus elsewhere: Delete discards the canvas result again.
    await away();
    await page.keyboard.press('Delete');
    await page.locator('[data-testid=result-bar]').waitFor({ state: 'hidden' });
    expect(await countText()).toBe(before - 1);
  });

  it('"Use params" says that it fixed the seed', async () => {
    await page.selectOption('[aria-label="Seed mode"]', 'random');
    await page.locator('[data-testid=gallery-cell]').first().click();
    await page.click('[data-testid=gallery-use]');
    await expect.poll(() => textOf('[data-testid=gallery-message]')).toMatch(/seed fixed to \d+/);
    expect(await page.inputValue('[aria-label="Seed mode"]')).toBe('fixed');
    await page.click('[data-testid=gallery-toggle]');
  });

  it('a broken model is marked with its error in the model list', async () => {
    const broken = await studio<Array<{ id: string; problem: string }>>('s.models.filter((m) => m.problem).map((m) => ({ id: m.id, problem: m.problem }))');
    expect(broken.length).toBeGreaterThan(0);
    await page.click('[data-testid=open-models]');
    const row = page.locator(`[data-testid=mm-model][data-id="${broken[0]!.id}"] [data-testid=mm-problem]`);
    await row.waitFor({ state: 'visible' });
    expect(await row.textContent()).toContain(broken[0]!.problem.slice(0, 20));
    await page.click('[data-testid=open-models]');
  });

  it('Hardness and Opacity show their values', async () => {
    expect(await page.textContent('[data-testid=hardness-value]')).toBe('70%');
    expect(await page.textContent('[data-testid=opacity-value]')).toBe('100%');
    await page.locator('[data-testid=hardness]').fill('0.25');
    await expect.poll(() => page.textContent('[data-testid=hardness-value]')).toBe('25%');
  });

  it('? opens the keyboard-shortcut sheet and Esc closes it', async () => {
    await away();
    await page.keyboard.press('?');
    await page.locator('[data-testid=shortcuts]').waitFor({ state: 'visible' });
    expect(await page.textContent('[data-testid=shortcuts]')).toContain('Ctrl+Enter');
    await page.screenshot({ path: '/tmp/studio-bugs-shortcuts-1440.png' });
    await page.keyboard.press('Escape');
    await page.locator('[data-testid=shortcuts]').waitFor({ state: 'hidden' });
  });

  it('a settings screen saves what only the settings file held (threads, execution provider, output folder)', async () => {
    await page.click('[data-testid=open-settings]');
    await expect.poll(() => page.inputValue('[data-testid=settings-backend]')).toBe('auto');
    await page.fill('[data-testid=settings-threads]', '2');
    await page.click('[data-testid=settings-save]');
    await page.locator('[data-testid=settings-message]').waitFor({ state: 'visible' });
    const stored = await page.evaluate(async () => (await (window as any).__latentStudio.studio.api.invoke('getSettings')).value.threads);
    expect(stored).toBe(2);
    await page.screenshot({ path: '/tmp/studio-bugs-settings-1440.png' });
    await page.click('[data-testid=open-settings]');
    await page.locator('[data-testid=settings]').waitFor({ state: 'hidden' });
  });

  it('at 1024×700 every toolbar control, a one-line result bar, a 10-digit seed and the model manager fit', async () => {
    await page.setViewportSize({ width: 1024, height: 700 });
    const viewport = { x: 0, y: 0, width: 1024, height: 700 };
    await generateResult();
    await away();
    for (const id of ['undo', 'redo', 'fit', 'zoom', 'tool-brush', 'mask-clear', 'generate']) {
      const b = await box(`[data-testid=${id}]`);
      expect(within(b, viewport), id).toBe(true);
    }
    const bar = await box('[data-testid=result-bar]');
    const accept = await box('[data-testid=accept]');
    expect(within(bar, viewport)).toBe(true);
    expect(bar.height).toBeLessThan(accept.height * 2);
    await page.selectOption('[aria-label="Seed mode"]', 'fixed');
    await page.fill('[data-testid=seed]', '4294967295');
    const seedFits = await page.$eval('[data-testid=seed]', (el) => (el as HTMLInputElement).scrollWidth <= (el as HTMLInputElement).clientWidth);
    await page.screenshot({ path: '/tmp/studio-bugs-1024.png' });
    expect(seedFits).toBe(true);
    await page.click('[data-testid=open-models]');
    for (const sel of ['[data-testid=mm-import-path]', '[data-testid=mm-import]', '[aria-label="Name"]']) {
      const b = await box(sel);
      expect(within(b, viewport), sel).toBe(true);
      expect(b.width, sel).toBeGreaterThan(40);
    }
    await page.screenshot({ path: '/tmp/studio-bugs-models-1024.png' });
    await page.click('[data-testid=open-models]');
    await page.click('[data-testid=discard]');
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.screenshot({ path: '/tmp/studio-bugs-1440.png' });
  });

  it('the brush size and the tool survive a reload', async () => {
    await away();
    await page.keyboard.press('e');
    await page.keyboard.press(']');
    const size = await studio<number>('s.tools.size');
    expect(size).not.toBe(48);
    await page.reload();
    await page.waitForFunction(() => (window as any).__latentStudio?.studio.models.length > 0);
    expect(await studio<string>('s.tools.tool')).toBe('eraser');
    expect(await studio<number>('s.tools.size')).toBe(size);
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
