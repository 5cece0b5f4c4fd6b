// Gallery at scale: 10,000 images (tiny real PNGs with A1111 + Latent Studio chunks, and their index records)
// in a temp folder; measures a cold open (load the index) + the first page with counts, searches, a full
// rebuild from the PNGs, and add() latency (PNG + journal, fsync'ed). Prints one JSON line.
//   npx tsx tools/bench/gallery.bench.ts [count]
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import extractChunks from 'png-chunks-extract';
import encodeChunks from 'png-chunks-encode';
import pngText from 'png-chunk-text';
import { Gallery, Journal, readImageParameters, type JournalRecord } from '../../src-main/gallery/index.js';

const COUNT = Number(process.argv[2] ?? 10_000);

/** `cold <dir>`: a fresh process (cold JIT) opens the gallery and lists the first page; prints the ms. */
async function coldChild(dir: string): Promise<void> {
  const a = performance.now();
  const { gallery } = await Gallery.open(dir, { thumbnails: false });
  const page = gallery.list({ limit: 200 });
  const openMs = performance.now() - a;
  const b = performance.now();
  gallery.list({ text: 'dragon castle' });
  const searchMs = performance.now() - b;
  console.log(JSON.stringify({ openMs, searchMs, total: page.total }));
}
const WORDS = 'castle forest dragon portrait city night neon ocean sunset mountain robot cat dog flower river snow desert knight wizard ship'.split(' ');
const STYLES = 'oil painting|watercolor|photo|anime|concept art|pixel art|sketch|3d render'.split('|');
const MODELS = ['sd15', 'dreamshaper', 'realistic-vision', 'anything-v5', 'sdxl-base'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
const r2 = (x: number): number => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-gallery-bench-'));
  const dir = path.join(tmp, 'out');
  try {
    const base = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 90, g: 120, b: 200 } } }).png().toBuffer();
    const baseChunks = extractChunks(base);
    const rand = rng(1234);
    const t0 = Date.UTC(2025, 0, 1);
    const records: JournalRecord[] = [];
    const tGen = performance.now();
    const days = new Set<string>();
    for (let i = 0; i < COUNT; i++) {
      const words = Array.from({ length: 6 }, () => WORDS[Math.floor(rand() * WORDS.length)]!);
      const prompt = `a ${words.join(' ')}, ${STYLES[i % STYLES.length]}, highly detailed, sharp focus, trending on artstation, ${i}`;
      const negative = 'blurry, lowres, bad anatomy, watermark';
      const model = MODELS[i % MODELS.length]!;
      const seed = String(Math.floor(rand() * 2 ** 32));
      const createdAt = t0 + i * 60_000;
      const infotext = `${prompt}\nNegative prompt: ${negative}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: ${seed}, Size: 512x512, Model: ${model}`;
      const request = JSON.stringify({ prompt, negativePrompt: negative, steps: 20, cfgScale: 7, seed, width: 512, height: 512, sampler: 'euler-ancestral', model });
      const chunks = [...baseChunks];
      chunks.splice(1, 0, pngText.encode('parameters', infotext), pngText.encode('latent-studio', request));
      const png = encodeChunks(chunks);
      const d = new Date(createdAt);
      const day = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
      const id = `${day}/img-${String(i).padStart(6, '0')}-${seed}`;
      if (!days.has(day)) {
        await mkdir(path.join(dir, day), { recursive: true });
        days.add(day);
      }
      await writeFile(path.join(dir, `${id}.png`), png);
      const p = readImageParameters(png);
      records.push({
        op: 'put',
        e: { id, createdAt, width: 8, height: 8, bytes: png.length, source: p.source, prompt: p.prompt, negativePrompt: p.negativePrompt, model: p.model!, sampler: p.sampler!, steps: p.steps!, cfgScale: p.cfgScale!, seed: p.seed! },
        ...(i % 17 === 0 ? { starred: true } : {}),
      });
    }
    const journal = new Journal<JournalRecord>(path.join(dir, '.latent-studio', 'index.journal'));
    await journal.append(records);
    await journal.close();
    const setupMs = performance.now() - tGen;

    // Cold open: load + replay the journal, first page (200, newest first) + counts. Repeated 5×, median.
    const opens: number[] = [];
    const firstPages: number[] = [];
    let journalBytes = 0;
    for (let k = 0; k < 5; k++) {
      const a = performance.now();
      const { gallery } = await Gallery.open(dir, { thumbnails: false });
      const b = performance.now();
      const page = gallery.list({ limit: 200 });
      const c = performance.now();
      if (page.total !== COUNT || page.items.length !== Math.min(200, COUNT)) throw new Error(`open: got ${page.total}`);
      opens.push(c - a);
      firstPages.push(c - b);
      journalBytes = gallery.journal.bytes;
      await gallery.close();
    }

    // A fresh process: nothing JIT-compiled yet (what the studio sees at start).
    const colds: Array<{ openMs: number; searchMs: number }> = [];
    for (let k = 0; k < 3; k++) {
      const line = execFileSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, 'cold', dir], { encoding: 'utf8' }).trim().split('\n').pop()!;
      colds.push(JSON.parse(line) as { openMs: number; searchMs: number });
    }

    const { gallery } = await Gallery.open(dir, { thumbnails: false });
    // The first search after an open also builds the lower-cased search text of every entry.
    const fs0 = performance.now();
    gallery.list({ text: 'dragon' });
    const firstSearchMs = performance.now() - fs0;
    const queries = [
      { name: 'word', q: { text: 'dragon' } },
      { name: 'two-words', q: { text: 'dragon castle' } },
      { name: 'phrase-rare', q: { text: 'wizard ship neon' } },
      { name: 'no-hit', q: { text: 'zzzzqqq' } },
      { name: 'model', q: { model: 'dreamshaper' } },
      { name: 'model+text', q: { model: 'sd15', text: 'ocean' } },
      { name: 'date-range', q: { from: t0 + 1000 * 60_000, to: t0 + 3000 * 60_000 } },
      { name: 'starred', q: { starredOnly: true } },
      { name: 'deep-page', q: { text: 'cat', offset: 2000, limit: 200 } },
    ];
    const search: Record<string, { ms: number; total: number }> = {};
    for (const { name, q } of queries) {
      const times: number[] = [];
      let total = 0;
      for (let k = 0; k < 7; k++) {
        const a = performance.now();
        total = gallery.list(q).total;
        times.push(performance.now() - a);
      }
      search[name] = { ms: r2(median(times)), total };
    }

    // Rebuild from the PNGs (scan + read every file's chunks + rewrite the index).
    const rb = await gallery.rebuild();
    if (rb.count !== COUNT) throw new Error(`rebuild: ${rb.count}`);

    // add(): PNG (temp + fsync + rename + folder fsync) and its journal record (fsync), 30 images.
    const adds: number[] = [];
    const sample = encodeChunks(baseChunks);
    for (let k = 0; k < 30; k++) {
      const a = performance.now();
      await gallery.add(sample);
      adds.push(performance.now() - a);
    }
    await gallery.close();

    console.log(
      JSON.stringify({
        bench: 'gallery',
        images: COUNT,
        journalBytes,
        setupMs: Math.round(setupMs),
        openFirstPageMs: { median: r2(median(opens)), min: r2(Math.min(...opens)), max: r2(Math.max(...opens)) },
        firstPageWithCountsMs: r2(median(firstPages)),
        coldProcess: { openFirstPageMs: r2(median(colds.map((c) => c.openMs))), firstSearchMs: r2(median(colds.map((c) => c.searchMs))) },
        firstSearchAfterOpenMs: r2(firstSearchMs),
        searchMs: search,
        searchMaxMs: r2(Math.max(...Object.values(search).map((s) => s.ms))),
        rebuildMs: rb.ms,
        addMs: { median: r2(median(adds)), max: r2(Math.max(...adds)) },
        budgetMs: 100,
        ok: median(opens) < 100 && median(colds.map((c) => c.openMs)) < 100 && firstSearchMs < 100 && Object.values(search).every((s) => s.ms < 100),
      }),
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

(process.argv[2] === 'cold' ? coldChild(process.argv[3]!) : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
