import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../../src-main/shared/format.js';

describe('formatBytes (CLI, host messages and renderer share it)', () => {
  it('binary units with three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(12.34 * 1024 ** 2)).toBe('12.3 MiB');
    expect(formatBytes(140 * 1024 ** 3)).toBe('140 GiB');
    expect(formatBytes(3 * 1024 ** 5)).toBe('3072 TiB');
  });

  it('never prints NaN or a negative size', () => {
    expect(formatBytes(Number.NaN)).toBe('0 B');
    expect(formatBytes(-5)).toBe('0 B');
  });
});
