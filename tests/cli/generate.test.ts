import { existsSync, readFileSync, watch, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readImageMetadata } from '../../src-main/engine/image/index.js';
import { ensureBuilt, listFiles, model, runCli, tempDir } from './helpers.js';

beforeAll(() => ensureBuilt());

const SMALL = ['-W', '64', '-H', '64', '--steps', '3'];

async function pngInfo(file: string): Promise<{ width: number; height: number; format: string }> {
  const meta = await sharp(file).metadata();
  return { width: meta.width!, height: meta.height!, format: meta.format! };
}

async function writeImage(file: string, width: number, height: number, color: { r: number; g: number; b: number }): Promise<string> {
  await sharp({ create: { width, height, channels: 3, background: color } }).png().toFile(file);
  return file;
}

describe('latent-studio generate', () => {
  it('writes a valid PNG with the parameters chunk and prints its path', async () => {
    const dir = tempDir();
    const r = await runCli(['generate', '-m', model('tiny-sd15'), '-p', 'a red cat', '-n', 'blurry', '--seed', '42', ...SMALL, '--threads', '1', '-o', 'cat.png'], { cwd: dir });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('cat.png\n');
    expect(listFiles(dir)).toEqual(['cat.png']);
    const png = readFileSync(path.join(dir, 'cat.png'));
    expect(await pngInfo(path.join(dir, 'cat.png'))).toEqual({ width: 64, height: 64, format: 'png' });
    const meta = readImageMetadata(png);
    expect(meta.parameters).toMatch(/^a red cat\nNegative prompt: blurry\nSteps: 3, .*Seed: 42, Size: 64x64/);
    expect(meta.request?.seed).toBe('42');
    // Progress went to stderr as plain lines (not a TTY).
    expect(r.stderr).toMatch(/image 1\/1 step \d+\/\d+/);
  });

  it('without --model uses the shipped demo model at its native 64x64 (the README command)', async () => {
    const dir = tempDir();
    const r = await runCli(['generate', '-p', 'a large red circle on the left on a white background', '--seed', '7', '--steps', '4', '-o', 'circle.png', '-q'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await pngInfo(path.join(dir, 'circle.png'))).toEqual({ width: 64, height: 64, format: 'png' });
    expect(readImageMetadata(readFileSync(path.join(dir, 'circle.png'))).parameters).toContain('Model: latent-studio-demo');
  });

  it('the same seed gives byte-identical files; another seed does not', async () => {
    const dir = tempDir();
    const args = ['generate', '-m', model('tiny-sd15'), '-p', 'a house', ...SMALL, '-q'];
    const a = await runCli([...args, '--seed', '7', '-o', 'a.png'], { cwd: dir });
    const b = await runCli([...args, '--seed', '7', '-o', 'b.png'], { cwd: dir });
    const c = await runCli([...args, '--seed', '8', '-o', 'c.png'], { cwd: dir });
    expect([a.code, b.code, c.code]).toEqual([0, 0, 0]);
    expect(a.stderr).toBe(''); // --quiet
    const [fa, fb, fc] = ['a.png', 'b.png', 'c.png'].map((f) => readFileSync(path.join(dir, f)));
    expect(fa!.equals(fb!)).toBe(true);
    expect(fa!.equals(fc!)).toBe(false);
  });

  it('--batch names files name-1.png, name-2.png with consecutive seeds; {seed} in --out; --json', async () => {
    const dir = tempDir();
    const r = await runCli(['generate', '-m', model('tiny-sd15'), '-p', 'a tree', '--seed', '100', '--batch', '2', ...SMALL, '-o', 'out/tree.png', '-q'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['out/tree-1.png', 'out/tree-2.png']);
    expect(listFiles(path.join(dir, 'out'))).toEqual(['tree-1.png', 'tree-2.png']);
    const seeds = ['tree-1.png', 'tree-2.png'].map((f) => readImageMetadata(readFileSync(path.join(dir, 'out', f))).request?.seed);
    expect(seeds).toEqual(['100', '101']);

    const j = await runCli(['generate', '-m', model('tiny-sd15'), '-p', 'a tree', '--seed', '5', '--batch', '2', ...SMALL, '-o', 's{seed}.png', '--json', '-q'], { cwd: dir });
    expect(j.code).toBe(0);
    const list = JSON.parse(j.stdout) as Array<{ path: string; seed: string; width: number; infotext: string }>;
    expect(list.map((x) => [x.path, x.seed, x.width])).toEqual([
      ['s5.png', '5', 64],
      ['s6.png', '6', 64],
    ]);
    expect(list[0]!.infotext).toContain('Seed: 5');
  });

  it('--preview-dir saves a PNG per preview frame', async () => {
    const dir = tempDir();
    const r = await runCli(['generate', '-m', model('tiny-sd15'), '-p', 'x', '--seed', '1', '-W', '64', '-H', '64', '--steps', '4', '--sampler', 'euler', '--preview-dir', 'prev', '-o', 'x.png', '-q'], { cwd: dir });
    expect(r.code).toBe(0);
    const frames = listFiles(path.join(dir, 'prev'));
    expect(frames).toEqual(['preview-1-001.png', 'preview-1-002.png', 'preview-1-003.png', 'preview-1-004.png']);
    // Latent previews are at latent resolution (64 / 8).
    expect(await pngInfo(path.join(dir, 'prev', frames[0]!))).toEqual({ width: 8, height: 8, format: 'png' });
  });

  it('runs img2img and inpainting', async () => {
    const dir = tempDir();
    const init = await writeImage(path.join(dir, 'init.png'), 64, 64, { r: 200, g: 40, b: 40 });
    const mask = await writeImage(path.join(dir, 'mask.png'), 64, 64, { r: 255, g: 255, b: 255 });
    const i2i = await runCli(['generate', '-m', model('tiny-sd15'), '-p', 'x', '--seed', '1', ...SMALL, '--init', init, '--strength', '0.5', '-o', 'i2i.png', '-q'], { cwd: dir });
    expect(i2i.stderr).toBe('');
    expect(i2i.code).toBe(0);
    const inpaint = await runCli(['generate', '-m', model('tiny-inpaint'), '-p', 'x', '--seed', '1', ...SMALL, '--init', init, '--mask', mask, '--mask-blur', '2', '-o', 'inp.png', '-q'], { cwd: dir });
    expect(inpaint.stderr).toBe('');
    expect(inpaint.code).toBe(0);
    expect(readImageMetadata(readFileSync(path.join(dir, 'inp.png'))).parameters).toContain('Denoising strength');
  });

  it('img2img without --width/--height runs at the init image size (rounded to 8); one side keeps the aspect ratio', async () => {
    const dir = tempDir();
    const init = await writeImage(path.join(dir, 'init.png'), 99, 61, { r: 10, g: 200, b: 40 });
    const r = await runCli(['generate', '-m', model('tiny-sd15'), '-p', 'x', '--seed', '1', '--steps', '2', '--init', init, '-o', 'a.png', '-q'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await pngInfo(path.join(dir, 'a.png'))).toEqual({ width: 96, height: 64, format: 'png' });
    const w = await runCli(['generate', '-m', model('tiny-sd15'), '-p', 'x', '--seed', '1', '--steps', '2', '--init', init, '-W', '48', '-o', 'b.png', '-q'], { cwd: dir });
    expect(w.code, w.stderr).toBe(0);
    expect(await pngInfo(path.join(dir, 'b.png'))).toEqual({ width: 48, height: 32, format: 'png' });
  });

  it('--model takes the name of a model in the models folder', async () => {
    const dir = tempDir();
    const r = await runCli(['generate', '-m', 'tiny-sd15', '-p', 'x', '--seed', '9', ...SMALL, '-o', 'named.png', '-q'], {
      cwd: dir,
      env: { LATENT_STUDIO_MODELS_DIR: path.dirname(model('tiny-sd15')) },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(listFiles(dir)).toEqual(['named.png']);
  });

  it('runs every tiny variant (fp16, v-prediction, LCM, turbo)', async () => {
    const dir = tempDir();
    for (const name of ['tiny-sd15-fp16', 'tiny-sd2-v', 'tiny-lcm', 'tiny-turbo']) {
      const r = await runCli(['generate', '-m', model(name), '-p', 'x', '--seed', '3', '-W', '64', '-H', '64', '--steps', '2', '-o', `${name}.png`, '-q'], { cwd: dir });
      expect(r.stderr, name).toBe('');
      expect(r.code, name).toBe(0);
    }
    expect(listFiles(dir)).toEqual(['tiny-lcm.png', 'tiny-sd15-fp16.png', 'tiny-sd2-v.png', 'tiny-turbo.png']);
  });
});

describe('latent-studio generate: bad input', () => {
  /** Runs in an empty folder and checks: exit code, one line on stderr matching `message`, no file written. */
  async function expectRejected(args: string[], message: RegExp, setup?: (dir: string) => Promise<void> | void, code = 2): Promise<void> {
    const dir = tempDir();
    await setup?.(dir);
    const before = listFiles(dir);
    const r = await runCli(['generate', ...args, '-o', 'out.png'], { cwd: dir });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(listFiles(dir)).toEqual(before);
  }

  it('a model folder that does not exist', async () => {
    await expectRejected(['-m', 'no/such/model', '-p', 'x'], /--model 'no\/such\/model': no such directory/);
  });

  it('a bare --model name that is neither a folder nor in the models folder', async () => {
    const dir = tempDir();
    const r = await runCli(['generate', '-m', 'nosuchmodel', '-p', 'x', '-o', 'out.png'], { cwd: dir, env: { LATENT_STUDIO_MODELS_DIR: path.dirname(model('tiny-sd15')) } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--model 'nosuchmodel': no such directory, and no model named 'nosuchmodel' in the models folder .*tests\/models/);
    expect(listFiles(dir)).toEqual([]);
  });

  it('a folder that is not a usable model (SDXL-like, files missing)', async () => {
    await expectRejected(['-m', model('bad-sdxl-like'), '-p', 'x', ...SMALL], /SDXL|missing/);
  });

  it('an unreadable init image', async () => {
    await expectRejected(['-m', model('tiny-sd15'), '-p', 'x', '--init', 'missing.png'], /cannot read --init image 'missing.png': no such file/);
    await expectRejected(['-m', model('tiny-sd15'), '-p', 'x', '--init', 'junk.png'], /cannot read --init image 'junk.png': not a supported image/, (dir) =>
      writeFileSync(path.join(dir, 'junk.png'), 'not a png'),
    );
  });

  it('an unknown sampler', async () => {
    await expectRejected(['-m', model('tiny-sd15'), '-p', 'x', '--sampler', 'euler_a'], /--sampler.*'euler_a' is invalid. Allowed choices are .*euler-ancestral/);
  });

  it('a width that is not a multiple of 8', async () => {
    await expectRejected(['-m', model('tiny-sd15'), '-p', 'x', '-W', '100', '-H', '64'], /--width.*'100' is invalid. Must be a multiple of 8 \(try 96 or 104\)/);
  });

  it('a mask of another size than the init image', async () => {
    await expectRejected(
      ['-m', model('tiny-inpaint'), '-p', 'x', '--init', 'init.png', '--mask', 'mask.png'],
      /--mask 'mask.png' is 32x32 but --init 'init.png' is 64x64/,
      async (dir) => {
        await writeImage(path.join(dir, 'init.png'), 64, 64, { r: 1, g: 2, b: 3 });
        await writeImage(path.join(dir, 'mask.png'), 32, 32, { r: 255, g: 255, b: 255 });
      },
    );
  });

  it('a mask without an init image; out-of-range numbers', async () => {
    await expectRejected(['-m', model('tiny-sd15'), '-p', 'x', '--mask', 'm.png'], /--mask needs --init/);
    await expectRejected(['-m', model('tiny-sd15'), '-p', 'x', '--steps', 'ten'], /--steps <n>' argument 'ten' is invalid. Expected an integer/);
    await expectRejected(['-m', model('tiny-sd15'), '-p', 'x', '--strength', '1.5', '--init', 'a.png'], /--strength <s>' argument '1.5' is invalid. Expected at most 1/);
    await expectRejected(['-m', model('tiny-sd15'), '-p', 'x', '--seed', 'abc'], /--seed <n>' argument 'abc' is invalid/);
  });
});

describe('latent-studio generate: write errors', () => {
  it('an output path that cannot be written: exit 1, one line, nothing left behind', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'blocker'), 'a file, not a folder');
    const r = await runCli(['generate', '-m', model('tiny-sd15'), '-p', 'x', ...SMALL, '-o', 'blocker/out.png', '-q'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot write 'blocker\/out.png': /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(listFiles(dir)).toEqual(['blocker']);
  });
});

describe('latent-studio generate: cancelling', () => {
  it('SIGINT mid-run cancels: exit 130, no output file, no temp file', async () => {
    const dir = tempDir();
    let sent = false;
    const r = await runCli(['generate', '-m', model('tiny-sd15'), '-p', 'x', '--seed', '1', '-W', '256', '-H', '256', '--steps', '500', '--sampler', 'euler', '-o', 'never.png'], {
      cwd: dir,
      onStderr: (soFar, child) => {
        if (!sent && /step 3\//.test(soFar)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('cancelled');
    expect(r.stdout).toBe('');
    expect(listFiles(dir)).toEqual([]);
  });

  it('SIGINT during a batch keeps every image written before it', async () => {
    const dir = tempDir();
    const first = path.join(dir, 'b-1.png');
    let child: ChildProcess | undefined;
    let sent = false;
    // SIGINT as soon as the first image is on disk (the batch of 1000 is far from done then).
    const interruptOnceWritten = (): void => {
      if (!sent && child && existsSync(first)) {
        sent = true;
        child.kill('SIGINT');
      }
    };
    const watcher = watch(dir, interruptOnceWritten);
    try {
      const r = await runCli(['generate', '-m', model('tiny-sd15'), '-p', 'x', '--seed', '7', ...SMALL, '--sampler', 'euler', '--batch', '1000', '-o', 'b.png'], {
        cwd: dir,
        onStderr: (_soFar, c) => {
          child = c;
          interruptOnceWritten();
        },
      });
      expect(sent).toBe(true);
      expect(r.code).toBe(130);
      const files = listFiles(dir);
      expect(files.length).toBeGreaterThanOrEqual(1);
      expect(files.length).toBeLessThan(1000);
      expect(files.every((f) => /^b-\d+\.png$/.test(f))).toBe(true);
      expect(r.stdout.trim().split('\n').sort()).toEqual(files);
      expect(r.stderr).toMatch(/cancelled \(\d+ finished images? (was|were) saved\)/);
      expect(readImageMetadata(readFileSync(first)).infotext?.seed).toBe('7');
    } finally {
      watcher.close();
    }
  });

  it('SIGTERM mid-run: exit 143, no output file', async () => {
    const dir = tempDir();
    let sent = false;
    const r = await runCli(['generate', '-m', model('tiny-sd15'), '-p', 'x', '--seed', '1', '-W', '256', '-H', '256', '--steps', '500', '--sampler', 'euler', '-o', 'never.png'], {
      cwd: dir,
      onStderr: (soFar, child) => {
        if (!sent && /step 3\//.test(soFar)) {
          sent = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(r.code).toBe(143);
    expect(listFiles(dir)).toEqual([]);
  });
});
