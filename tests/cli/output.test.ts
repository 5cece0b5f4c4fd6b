import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputPath, writeOutputFile } from '../../src-main/cli/output.js';
import { formatSeconds } from '../../src-main/cli/progress.js';
import { parseImageSize, parseSeed } from '../../src-main/cli/parse.js';
import { tempDir } from './helpers.js';

describe('output names', () => {
  it('one image: the name as given (.png added when there is no extension)', () => {
    expect(outputPath('cat.png', { index: 1, count: 1, seed: '42' })).toBe('cat.png');
    expect(outputPath('out/cat', { index: 1, count: 1, seed: '42' })).toBe('out/cat.png');
  });

  it('a batch: -N before the extension unless {n} or {seed} is in the pattern', () => {
    expect([1, 2, 3].map((i) => outputPath('cat.png', { index: i, count: 3, seed: String(9 + i) }))).toEqual(['cat-1.png', 'cat-2.png', 'cat-3.png']);
    expect(outputPath('img_{n}_of_batch.webp.png', { index: 2, count: 2, seed: '5' })).toBe('img_2_of_batch.webp.png');
    expect(outputPath('s{seed}.png', { index: 2, count: 2, seed: '18446744073709551615' })).toBe('s18446744073709551615.png');
    expect(outputPath('latent-{seed}.png', { index: 1, count: 1, seed: '7' })).toBe('latent-7.png');
  });
});

describe('writeOutputFile', () => {
  it('writes the bytes, replaces an existing file, and leaves no temp file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'sub', 'a.png');
    await writeOutputFile(file, new Uint8Array([1, 2, 3]));
    await writeOutputFile(file, new Uint8Array([4, 5]));
    expect([...readFileSync(file)]).toEqual([4, 5]);
    expect(readdirSync(path.join(dir, 'sub'))).toEqual(['a.png']);
  });

  it('a failed write leaves neither the file nor a temp file', async () => {
    const dir = tempDir();
    // The target is an existing directory: rename fails after the temp file was written.
    const target = path.join(dir, 'taken');
    await writeOutputFile(path.join(target, 'x'), new Uint8Array([1]));
    await expect(writeOutputFile(target, new Uint8Array([1, 2]))).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(existsSync(path.join(target, 'x'))).toBe(true);
  });
});

describe('argument parsers and formatting', () => {
  it('sizes are positive multiples of 8', () => {
    expect(parseImageSize('512')).toBe(512);
    expect(() => parseImageSize('500')).toThrow(/multiple of 8 \(try 496 or 504\)/);
    expect(() => parseImageSize('0')).toThrow(/at least 8/);
    expect(() => parseImageSize('5.5')).toThrow(/integer/);
  });

  it('seeds keep 64-bit precision', () => {
    expect(parseSeed('18446744073709551615')).toBe('18446744073709551615');
    expect(parseSeed('-1')).toBe('-1');
    expect(() => parseSeed('18446744073709551616')).toThrow(/64-bit/);
    expect(() => parseSeed('1e3')).toThrow(/integer/);
  });

  it('durations', () => {
    expect(formatSeconds(1234)).toBe('1.2s');
    expect(formatSeconds(125_000)).toBe('2m05s');
    expect(formatSeconds(undefined)).toBe('?');
  });
});
