// Two processes on one output folder (the desktop app and `serve` default to the same one): REAL child
// processes (two-writers-child.ts) driven step by step over stdin; every step waits for the child's answer.
// Same-time, same-seed saves must never overwrite each other, and a compaction by one must not make the other
// append to a replaced journal.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Gallery, readImageParameters } from '../../src-main/gallery/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const childScript = path.join(here, 'two-writers-child.ts');
const repo = path.resolve(here, '..', '..');

interface Writer {
  proc: ChildProcess;
  lines: string[];
  /** Sends a command; resolves with the lines printed until its `ok`. */
  send(command: string): Promise<string[]>;
  ready: Promise<void>;
}

function writer(outDir: string): Writer {
  const proc = spawn(process.execPath, ['--import', 'tsx', childScript, outDir], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiting: Array<{ from: number; resolve: (l: string[]) => void; reject: (e: Error) => void }> = [];
  let buf = '';
  let stderr = '';
  let onReady!: () => void;
  let onFail!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  const fail = (e: Error): void => {
    onFail(e);
    for (const w of waiting.splice(0)) w.reject(e);
  };
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      if (line === 'ready') onReady();
      else if (line.startsWith('fatal')) fail(new Error(line));
      else if (line === 'ok') {
        const w = waiting.shift();
        w?.resolve(lines.slice(w.from, -1));
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.on('exit', (code) => {
    if (code !== 0) fail(new Error(`writer exited with ${code}: ${stderr.slice(-2000)}`));
  });
  return {
    proc,
    lines,
    ready,
    send(command) {
      return new Promise((resolve, reject) => {
        waiting.push({ from: lines.length, resolve, reject });
        proc.stdin!.write(`${command}\n`);
      });
    },
  };
}

let tmp: string;
const writers: Writer[] = [];
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-two-writers-'));
});
afterEach(async () => {
  for (const w of writers.splice(0)) if (w.proc.exitCode === null) w.proc.kill();
  await rm(tmp, { recursive: true, force: true });
});

async function two(outDir: string): Promise<[Writer, Writer]> {
  const a = writer(outDir);
  const b = writer(outDir);
  writers.push(a, b);
  await Promise.all([a.ready, b.ready]);
  return [a, b];
}

describe('two processes on one output folder', () => {
  it('2 × 25 saves with the same time and seed at once: 50 files, each with its own image', async () => {
    const outDir = path.join(tmp, 'out');
    const [a, b] = await two(outDir);
    const t = Date.UTC(2026, 5, 1, 12);
    const [savedA, savedB] = await Promise.all([a.send(`add A 25 ${t}`), b.send(`add B 25 ${t}`)]);
    await Promise.all([a.send('close'), b.send('close')]);
    const saved = [...savedA, ...savedB].map((l) => l.split(' ') as [string, string, string]);
    expect(saved).toHaveLength(50);
    expect(new Set(saved.map(([, id]) => id)).size).toBe(50);
    const day = path.join(outDir, saved[0]![1].split('/')[0]!);
    expect((await readdir(day)).filter((n) => n.endsWith('.png'))).toHaveLength(50);
    // Every reported id holds the image that writer saved (none was overwritten by the other).
    for (const [, id, prompt] of saved) {
      const png = await readFile(path.join(outDir, `${id}.png`));
      expect(readImageParameters(png).prompt, id).toBe(prompt.replace('_', ' '));
    }
    const { gallery } = await Gallery.open(outDir, { thumbnails: false });
    expect(gallery.size).toBe(50);
    expect(await gallery.reconcile()).toEqual({ added: 0, removed: 0 });
    await gallery.close();
  });

  it('one compacts the journal while the other keeps writing: nothing the other wrote is lost', async () => {
    const outDir = path.join(tmp, 'out');
    const [a, b] = await two(outDir);
    const t = Date.UTC(2026, 5, 2, 12);
    const before = (await b.send(`add early 2 ${t}`)).map((l) => l.split(' ')[1]!);
    await a.send(`add other 1 ${t + 1000}`);
    await a.send('compact');
    const after = (await b.send(`add late 3 ${t + 2000}`)).map((l) => l.split(' ')[1]!);
    const stars = [...before, ...after];
    await b.send(`star ${stars.join(' ')}`);
    await Promise.all([a.send('close'), b.send('close')]);
    // The index alone (no reconcile) has all six images and B's five stars.
    const { gallery, report } = await Gallery.open(outDir, { thumbnails: false });
    expect(report.corruptLines).toBe(0);
    expect(gallery.size).toBe(6);
    expect(
      gallery
        .all()
        .filter((i) => i.starred)
        .map((i) => i.id)
        .sort(),
    ).toEqual(stars.sort());
    await gallery.close();
  });
});
