// Helpers for driving the studio page.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { ROOT } from './host.js';

export const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** A w×h PNG with a colour gradient. */
export async function gradientPng(w: number, h: number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) raw.set([Math.round((x / w) * 255), Math.round((y / h) * 255), 128], (y * w + x) * 3);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

export async function openImage(page: Page, png: Buffer): Promise<void> {
  await page.setInputFiles('[data-testid=file-input]', { name: 'init.png', mimeType: 'image/png', buffer: png });
}

/** Drag across the canvas from (fx0, fy0) to (fx1, fy1), fractions of the document. */
export async function drawStroke(page: Page, from: [number, number], to: [number, number], steps = 12): Promise<void> {
  const pts = await page.evaluate(
    ([a, b]) => {
      const s = (window as any).__latentStudio.studio;
      const box = document.querySelector('[data-testid=canvas]')!.getBoundingClientRect();
      const toScreen = ([fx, fy]: number[]) => ({
        x: box.left + s.view.x + fx! * s.doc.width * s.view.scale,
        y: box.top + s.view.y + fy! * s.doc.height * s.view.scale,
      });
      return [toScreen(a!), toScreen(b!)];
    },
    [from, to],
  );
  await page.mouse.move(pts[0]!.x, pts[0]!.y);
  await page.mouse.down();
  await page.mouse.move(pts[1]!.x, pts[1]!.y, { steps });
  await page.mouse.up();
}

export async function selectModel(page: Page, name: string): Promise<void> {
  await page.selectOption('[data-testid=model]', { value: `bundled:${name}` });
}

export async function setNumber(page: Page, testid: string, value: number): Promise<void> {
  await page.fill(`[data-testid=${testid}]`, String(value));
  await page.dispatchEvent(`[data-testid=${testid}]`, 'change');
}

/** Records, in the page, when progress, previews drawn and results happen (performance.now()). */
export async function recordTimeline(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as any;
    const { studio, stats } = w.__latentStudio;
    const t: { progress: number[]; previewDrawn: number[]; result: number[]; labels: string[] } = { progress: [], previewDrawn: [], result: [], labels: [] };
    w.__timeline = t;
    studio.generation.onProgress(() => t.progress.push(performance.now()));
    studio.generation.onResult(() => t.result.push(performance.now()));
    stats.previewDrawnAt.clear();
    const poll = () => {
      const label = document.querySelector('[data-testid=progress-label]')?.textContent;
      if (label && t.labels.at(-1) !== label) t.labels.push(label);
      // The stage stamps each preview as it draws it.
      t.previewDrawn = stats.previewDrawnAt.all();
      requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  });
}

export interface Timeline {
  progress: number[];
  previewDrawn: number[];
  result: number[];
  /** Progress bar labels seen on screen, in order. */
  labels: string[];
}

/** The timeline so far; reset() clears it. */
export function timeline(page: Page, reset = false): Promise<Timeline> {
  return page.evaluate((r) => {
    const t = (window as any).__timeline;
    const copy = JSON.parse(JSON.stringify(t));
    copy.previewDrawn = (window as any).__latentStudio.stats.previewDrawnAt.all();
    if (r) {
      for (const k of Object.keys(t)) t[k].length = 0;
      (window as any).__latentStudio.stats.previewDrawnAt.clear();
    }
    return copy;
  }, reset);
}
