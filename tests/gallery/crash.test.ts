// Crash safety with REAL processes killed by SIGKILL at random moments: a child saves gallery images (PNG +
// thumbnail + index) and autosave documents in a loop, and is killed; after each kill the parent reopens the
// folder and checks that every listed image decodes, that the index matches the files, that every image the
// child reported as saved is still there, and that the autosaved document loads (the latest or the one before).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentStore } from '../../src-main/autosave/index.js';
import { Gallery, isCompletePng } from '../../src-main/gallery/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.join(here, 'crash-child.ts');
const repo = path.resolve(here, '..', '..');
const ITERATIONS = Number(process.env['LATENT_STUDIO_CRASH_ITERATIONS'] ?? 24);

interface Run {
  lines: string[];
  proc: ChildProcess;
  /** Resolves once `count` lines satisfy `match`; rejects if the child fails or exits first. */
  linesMatching(match: (line: string) => boolean, count: number): Promise<void>;
  exited: Promise<void>;
}

function start(args: string[]): Run {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters = new Set<{ match: (line: string) => boolean; left: number; resolve: () => void; reject: (e: Error) => void }>();
  let failure: Error | null = null;
  const fail = (e: Error): void => {
    failure ??= e;
    for (const w of waiters) w.reject(e);
    waiters.clear();
  };
  let buf = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      if (line.startsWith('fatal') || line.startsWith('error')) fail(new Error(line));
      for (const w of waiters) {
        if (w.match(line) && --w.left <= 0) {
          waiters.delete(w);
          w.resolve();
        }
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  proc.on('exit', (code, signal) => {
    if (signal !== 'SIGKILL') fail(new Error(`child exited (${code ?? signal}) before it was killed: ${stderr.slice(-2000)}`));
  });
  const linesMatching = (match: (line: string) => boolean, count: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure);
      const left = count - lines.filter(match).length;
      if (left <= 0) return resolve();
      waiters.add({ match, left, resolve, reject });
    });
  return { lines, proc, linesMatching, exited };
}

/**
 * Kill once the child has reported `afterLines` lines that match (it has got that far for sure), plus a random
 * jitter so that the kill lands at an arbitrary point of the operation in progress. The jitter only chooses
 * WHERE the kill lands; every landing point is valid and the checks never depend on it.
 */
async function killAfterProgress(run: Run, match: (line: string) => boolean, afterLines: number, jitterMs: number): Promise<void> {
  await run.linesMatching((l) => l === 'ready', 1);
  await run.linesMatching(match, afterLines);
  if (jitterMs > 0) await new Promise((r) => setTimeout(r, Math.random() * jitterMs));
  run.proc.kill('SIGKILL');
  await run.exited;
}

/** Reopen and check everything; returns the gallery's ids. */
async function verify(outDir: string, autosaveDir: string, lines: string[], docsBefore: number): Promise<{ images: number; doc: number; fromBackup: boolean }> {
  const { gallery, report } = await Gallery.open(outDir, { thumbnails: false });
  expect(report.corruptLines).toBe(0); // a kill can only tear the tail, never the middle
  await gallery.reconcile();
  const items = gallery.all();
  const ids = new Set(items.map((i) => i.id));
  // No image the child was told was saved is lost.
  for (const line of lines) {
    const m = /^(saved|result) (.+)$/.exec(line);
    if (m) expect(ids.has(m[2]!), `image ${m[2]} was reported saved`).toBe(true);
  }
  // Every listed image is a whole PNG that decodes, where the index says it is.
  for (const item of items) {
    const png = await readFile(item.file);
    expect(isCompletePng(png), item.file).toBe(true);
    const { width, height } = await sharp(png).metadata();
    expect([width, height]).toEqual([item.width, item.height]);
  }
  // The index matches the files (a second reconcile finds nothing to do; the scan equals the index).
  const scanned = await gallery.scan();
  expect([...scanned.keys()].sort()).toEqual([...ids].sort());
  for (const item of items) expect(scanned.get(item.id)).toBe(item.trashed);
  expect(await gallery.reconcile()).toEqual({ added: 0, removed: 0 });
  await gallery.close();
  // The autosaved document loads: the latest reported save or newer.
  const lastDoc = Math.max(docsBefore, ...lines.filter((l) => l.startsWith('doc ')).map((l) => Number(l.slice(4))));
  const loaded = await new DocumentStore(autosaveDir).load();
  if (lastDoc > 0) {
    expect(loaded).not.toBeNull();
    const n = loaded!.document.settings['n'] as number;
    expect(n).toBeGreaterThanOrEqual(lastDoc);
    for (const id of [loaded!.document.image, loaded!.document.mask].filter(Boolean) as string[]) {
      expect(isCompletePng(loaded!.blobs[id]!)).toBe(true);
    }
    return { images: items.length, doc: n, fromBackup: loaded!.fromBackup };
  }
  return { images: items.length, doc: 0, fromBackup: false };
}

describe('SIGKILL at random moments', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-crash-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it(`gallery saves + autosave: ${ITERATIONS} kills, nothing saved is lost, nothing listed is corrupt`, async () => {
    const outDir = path.join(tmp, 'out');
    const autosaveDir = path.join(tmp, 'autosave');
    let doc = 0;
    let kills = 0;
    let lastImages = 0;
    let backups = 0;
    let savedReported = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const run = start([outDir, autosaveDir]);
      // 0 to 3 finished saves first (0: the kill lands in start-up or the first save).
      await killAfterProgress(run, (l) => l.startsWith('saved '), i % 4, 60);
      kills++;
      savedReported += run.lines.filter((l) => l.startsWith('saved ')).length;
      const r = await verify(outDir, autosaveDir, run.lines, doc);
      expect(r.images).toBeGreaterThanOrEqual(lastImages); // nothing is purged here: the count never drops
      lastImages = r.images;
      doc = r.doc;
      if (r.fromBackup) backups++;
    }
    expect(kills).toBe(ITERATIONS);
    expect(lastImages).toBeGreaterThanOrEqual(savedReported); // every reported save is still listed (trashed ones too)
    console.log(`crash test: ${kills} kills, ${lastImages} images, last document ${doc}, ${backups} loads from the previous save`);
  }, 900_000); // a safety net only: on a heavily loaded 2-core machine the kills take minutes

  it('the studio service mid-generation (engine worker + gallery): 5 kills, every result reported is on disk and decodes', async () => {
    const outDir = path.join(tmp, 'svc-out');
    const autosaveDir = path.join(tmp, 'svc', 'autosave');
    let results = 0;
    for (let i = 0; i < 5; i++) {
      const run = start([outDir, autosaveDir, 'service', path.join(repo, 'tests', 'models')]);
      // Kill while the model loads (run 0), then after 1 to 4 finished results, while the next ones generate and save.
      await killAfterProgress(run, (l) => l.startsWith('result '), i, 500);
      expect(run.lines.filter((l) => l.startsWith('error'))).toEqual([]);
      results += run.lines.filter((l) => l.startsWith('result')).length;
      await verify(outDir, autosaveDir, run.lines, 0);
    }
    console.log(`service crash test: ${results} results saved across 5 kills`);
  }, 900_000); // a safety net only: on a heavily loaded 2-core machine the kills take minutes
});
