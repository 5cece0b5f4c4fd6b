// Hostile command lines: absurd thread counts, inputs that are devices, pipes or too large, outputs that are
// folders or devices. Each is refused at once with a usage error (exit 2) — no hang, no gigabytes read, no
// stray `<path>.png`. The attack files are made here, small.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readBoundedFile } from '../../src-main/cli/images.js';
import { checkOutPattern, outputTargetProblem, writeOutputFile } from '../../src-main/cli/output.js';
import { parseThreads } from '../../src-main/cli/parse.js';
import { buildSessionOptions, maxThreads } from '../../src-main/engine/onnx/runtime.js';
import { ensureBuilt, listFiles, model, runCli, tempDir } from './helpers.js';

const posix = process.platform !== 'win32';

describe('--threads', () => {
  it('accepts 1..logical CPUs and refuses more, naming the limit', () => {
    const cpus = availableParallelism();
    expect(parseThreads('1')).toBe(1);
    expect(parseThreads(String(cpus))).toBe(cpus);
    expect(() => parseThreads(String(cpus + 1))).toThrow(`at most ${cpus}`);
    expect(() => parseThreads('1000000')).toThrow(/logical CPU/);
  });

  it('the engine caps a session at the logical CPUs whoever asks (the studio, the worker protocol)', () => {
    expect(maxThreads()).toBe(availableParallelism());
    expect(buildSessionOptions({ threads: 1_000_000 }).intraOpNumThreads).toBe(availableParallelism());
    expect(buildSessionOptions({ threads: 1 }).intraOpNumThreads).toBe(1);
  });
});

describe('bounded input reads', () => {
  it('reads a regular file whole', async () => {
    const file = path.join(tempDir(), 'a.bin');
    writeFileSync(file, Buffer.from([1, 2, 3]));
    expect([...(await readBoundedFile(file))]).toEqual([1, 2, 3]);
  });

  it('refuses a file over the limit before reading it', async () => {
    const file = path.join(tempDir(), 'big.bin');
    writeFileSync(file, Buffer.alloc(2048));
    await expect(readBoundedFile(file, 1024)).rejects.toMatchObject({ code: 'ETOOBIG' });
  });

  it.skipIf(!posix)('refuses a device (/dev/zero never ends) and a folder', async () => {
    await expect(readBoundedFile('/dev/zero')).rejects.toMatchObject({ code: 'ENOTREGULAR' });
    await expect(readBoundedFile(tempDir())).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it.skipIf(!posix)('refuses a FIFO without waiting for a writer', async () => {
    const fifo = path.join(tempDir(), 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    await expect(readBoundedFile(fifo)).rejects.toMatchObject({ code: 'ENOTREGULAR' });
  });
});

describe('output targets', () => {
  it('a folder or a device is not an output file; a missing or regular file is', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'old.png'), 'x');
    expect(await outputTargetProblem(path.join(dir, 'old.png'))).toBeUndefined();
    expect(await outputTargetProblem(path.join(dir, 'new.png'))).toBeUndefined();
    expect(await outputTargetProblem(dir)).toBe('it is a folder');
    if (posix) expect(await outputTargetProblem('/dev/null')).toMatch(/device/);
    await expect(checkOutPattern(dir)).rejects.toThrow(/is a folder.*latent-\{seed\}\.png/);
  });

  it('writeOutputFile never replaces a folder or a device', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'taken.png'));
    await expect(writeOutputFile(path.join(dir, 'taken.png'), new Uint8Array([1]))).rejects.toThrow(/is a folder/);
    expect(statSync(path.join(dir, 'taken.png')).isDirectory()).toBe(true);
    expect(readdirSync(dir)).toEqual(['taken.png']);
    if (posix) {
      await expect(writeOutputFile('/dev/null', new Uint8Array([1]))).rejects.toThrow(/device/);
      expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    }
  });
});

describe('latent-studio generate: hostile arguments exit 2 at once', () => {
  beforeAll(() => ensureBuilt(), 180_000);
  const base = ['generate', '-m', model('tiny-sd15'), '-p', 'x', '-W', '64', '-H', '64', '--steps', '1', '-q'];

  it('--threads 1000000', async () => {
    const dir = tempDir();
    const r = await runCli([...base, '--threads', '1000000', '-o', 'a.png'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--threads <n>' argument '1000000' is invalid. This machine has \d+ logical CPUs?: at most \d+/);
    expect(listFiles(dir)).toEqual([]);
  });

  it.skipIf(!posix)('--init /dev/zero and --init <fifo>', async () => {
    const dir = tempDir();
    const zero = await runCli([...base, '--init', '/dev/zero', '-o', 'a.png'], { cwd: dir });
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/cannot read --init image '\/dev\/zero': not a regular file/);
    execFileSync('mkfifo', [path.join(dir, 'pipe.png')]);
    const fifo = await runCli([...base, '--init', 'pipe.png', '-o', 'a.png'], { cwd: dir });
    expect(fifo.code).toBe(2);
    expect(fifo.stderr).toMatch(/cannot read --init image 'pipe.png': not a regular file/);
    expect(listFiles(dir)).toEqual(['pipe.png']);
  });

  it('-o <existing folder> and -o /dev/full', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'shots'));
    const folder = await runCli([...base, '-o', 'shots'], { cwd: dir });
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/--out 'shots': it is a folder/);
    expect(listFiles(dir)).toEqual(['shots']); // no shots.png next to it
    expect(listFiles(path.join(dir, 'shots'))).toEqual([]);
    if (existsSync('/dev/full')) {
      const full = await runCli([...base, '-o', '/dev/full'], { cwd: dir });
      expect(full.code).toBe(2);
      expect(full.stderr).toMatch(/--out '\/dev\/full': it is a device/);
    }
  });
});
