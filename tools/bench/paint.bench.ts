// Painting while a generation runs, in the browser host (Chromium through playwright-core):
//   - frame time of mask strokes on a 2048×2048 canvas: main-thread ms per frame that redraws the
//     mask (input handling since the previous frame + the redraw), p50/p95; goal p95 ≤ 16.7 ms.
//     Chromium rasterises canvas drawing after the script, so also the rAF interval during strokes
//     (16.7 ms = every frame made it) and the number of frames over 25 ms (dropped frames).
//   - preview delay: from a step's progress event arriving in the page to its preview drawn on the stage.
// Strokes are measured idle (no job) and while a job runs (512×512 txt2img on tiny-sd15, started by the page). Run: npx tsx tools/bench/paint.bench.ts   Prints one JSON line.
// BENCH_PAINT_SIZE (default 2048), BENCH_PAINT_STROKES (default 6), BENCH_SKIP_RENDERER_BUILD=1.
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { browserMissingReason, launchChromium } from '../../tests/e2e/support/browser.js';
import { buildRenderer } from '../../tests/e2e/support/build-renderer.js';
import { RENDERER_DIR, startHost } from '../../tests/e2e/support/host.js';
import { gradientPng, openImage, selectModel } from '../../tests/e2e/support/page.js';

const SIZE = Number(process.env.BENCH_PAINT_SIZE ?? 2048);
const STROKES = Number(process.env.BENCH_PAINT_STROKES ?? 6);

function pct(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(2));
}

async function strokes(page: Page, n: number): Promise<{ frameMs: number[]; rafMs: number[] }> {
  await page.evaluate(() => {
    const w = window as any;
    w.__latentStudio.stats.maskFrameMs.clear();
    w.__latentStudio.stats.inputMs = 0;
    w.__raf = [];
    w.__rafOn = true;
    const loop = (t: number) => {
      if (!w.__rafOn) return;
      w.__raf.push(t);
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  });
  const box = (await page.locator('[data-testid=canvas]').boundingBox())!;
  for (let i = 0; i < n; i++) {
    // Zig-zags across the middle of the view.
    const y0 = box.y + box.height * (0.2 + (0.6 * i) / Math.max(1, n - 1));
    await page.mouse.move(box.x + box.width * 0.15, y0);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.85, y0 + 40, { steps: 90 });
    await page.mouse.move(box.x + box.width * 0.2, y0 + 80, { steps: 90 });
    await page.mouse.up();
  }
  await page.waitForTimeout(100);
  return page.evaluate(() => {
    const w = window as any;
    w.__rafOn = false;
    const t: number[] = w.__raf;
    return { frameMs: w.__latentStudio.stats.maskFrameMs.all(), rafMs: t.slice(1).map((v, i) => v - t[i]!) };
  });
}

async function main(): Promise<void> {
  const missing = browserMissingReason();
  if (missing) {
    console.error(`[paint.bench] skipped: ${missing}`);
    console.log(JSON.stringify({ bench: 'paint', skipped: missing }));
    return;
  }
  if (!process.env.BENCH_SKIP_RENDERER_BUILD || !existsSync(RENDERER_DIR)) await buildRenderer();
  const host = await startHost();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // tsx compiles with keepNames: functions passed to page.evaluate call esbuild's __name helper.
    await page.addInitScript('globalThis.__name = (f) => f');
    await page.goto(host.url);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=model] option').length > 0);
    await selectModel(page, 'tiny-sd15');
    await page.fill('[data-testid=prompt]', 'a lighthouse on a cliff, oil painting');
    await openImage(page, await gradientPng(SIZE, SIZE));
    await page.waitForFunction((s) => (window as any).__latentStudio.studio.doc.width === s, SIZE);
    await page.click('[data-testid=tool-brush]');

    const idle = await strokes(page, STROKES);

    // A long job from this page, so its previews are drawn over the canvas while painting. Not at
    // SIZE×SIZE: a 2048² img2img through the tiny VAE's full-resolution attention needs ~19 GB.
    // 512×512 txt2img (64×64 latent previews, stretched over the canvas like any preview).
    await page.evaluate(() => (window as any).__latentStudio.studio.doc.clearMask());
    await page.evaluate(() => (window as any).__latentStudio.stats.previewDelayMs.clear());
    await page.evaluate((model) => {
      const studio = (window as any).__latentStudio.studio;
      void studio.generation.start({ model, prompt: 'a lighthouse on a cliff', sampler: 'euler', steps: 1000, width: 512, height: 512, previewEvery: 1 });
    }, 'bundled:tiny-sd15');
    await page
      .waitForFunction(() => (window as any).__latentStudio.studio.generation.step >= 2, undefined, { timeout: 120_000 })
      .catch(async (e) => {
        const g = await page.evaluate(() => {
          const g = (window as any).__latentStudio.studio.generation;
          return { phase: g.phase, step: g.step, error: g.error, notice: g.notice };
        });
        throw new Error(`the job did not start: ${JSON.stringify(g)} (${(e as Error).message})`);
      });
    const stepBefore = await page.evaluate(() => (window as any).__latentStudio.studio.generation.step);
    const t0 = Date.now();
    const busy = await strokes(page, STROKES);
    const seconds = (Date.now() - t0) / 1000;
    const after = await page.evaluate(() => {
      const w = window as any;
      return { step: w.__latentStudio.studio.generation.step, phase: w.__latentStudio.studio.generation.phase, previewDelay: w.__latentStudio.stats.previewDelayMs.all() };
    });
    await page.keyboard.press('Escape');

    console.log(
      JSON.stringify({
        bench: 'paint',
        canvas: `${SIZE}x${SIZE}`,
        viewport: '1280x800',
        idle_stroke_frames: idle.frameMs.length,
        idle_stroke_frame_ms_p50: pct(idle.frameMs, 50),
        idle_stroke_frame_ms_p95: pct(idle.frameMs, 95),
        idle_raf_interval_ms_p95: pct(idle.rafMs, 95),
        idle_frames_over_25ms: idle.rafMs.filter((v) => v > 25).length,
        busy_stroke_frames: busy.frameMs.length,
        busy_stroke_frame_ms_p50: pct(busy.frameMs, 50),
        busy_stroke_frame_ms_p95: pct(busy.frameMs, 95),
        busy_raf_interval_ms_p50: pct(busy.rafMs, 50),
        busy_raf_interval_ms_p95: pct(busy.rafMs, 95),
        busy_raf_intervals: busy.rafMs.length,
        busy_frames_over_25ms: busy.rafMs.filter((v) => v > 25).length,
        goal_p95_ms: 16.7,
        generation_steps_during_strokes: after.step - stepBefore,
        generation_steps_per_s: Number(((after.step - stepBefore) / seconds).toFixed(2)),
        generation_still_running: after.phase === 'running',
        preview_delay_samples: after.previewDelay.length,
        preview_delay_ms_p50: pct(after.previewDelay, 50),
        preview_delay_ms_p95: pct(after.previewDelay, 95),
      }),
    );
  } finally {
    await browser.close();
    await host.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
