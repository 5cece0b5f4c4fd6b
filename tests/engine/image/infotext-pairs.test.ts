// The linear-time infotext scanner gives the same pairs as A1111's regex (kept here as the reference) on short
// lines, where the regex's backtracking costs nothing; hostile long lines are in tests/gallery/hostile-metadata.test.ts.
import { describe, expect, it } from 'vitest';
import { infotextPairs, parseInfotext } from '../../../src-main/engine/image/infotext.js';

const A1111_RE_PARAM = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;
const reference = (line: string): [string, string][] => [...line.matchAll(A1111_RE_PARAM)].map((m) => [m[1]!, m[2]!]);

describe('infotextPairs', () => {
  it('matches the A1111 regex on real lines and edge cases', () => {
    const lines = [
      'Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1, Size: 512x768, Model hash: abc, Model: sd15',
      'Steps: 5, Lora hashes: "a: 1, b: 2", Template: "x \\" y", Empty: "", Bad quote: "open, Next: 1',
      'a: 1, bb: 2,  cc  :3, -x: 4, d/e-f g: 5, "q": 6, k:"v" tail, z: "\\',
      'Steps:20,Sampler:Euler\ta:b\u00a0c: d\u2028e: "f\\\ng", x: 1',
      'no pairs here at all',
      '',
    ];
    for (const line of lines) expect(infotextPairs(line), line).toEqual(reference(line));
  });

  it('matches the A1111 regex on 20,000 random short lines', () => {
    const alphabet = ['a', 'b', ' ', ':', ',', '"', '\\', '-', '/', '\t', '\r', '\n', '\u00a0', '\u2028', '1', '_', 'é', ':', ' '];
    let state = 12345;
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % n;
    };
    for (let t = 0; t < 20_000; t++) {
      let line = '';
      for (let i = random(24); i > 0; i--) line += alphabet[random(alphabet.length)];
      expect(infotextPairs(line), JSON.stringify(line)).toEqual(reference(line));
    }
  });

  it('reads at most 1000 pairs of a line', () => {
    const line = Array.from({ length: 1500 }, (_, i) => `k${i}: ${i}`).join(', ');
    const pairs = infotextPairs(line);
    expect(pairs).toHaveLength(1000);
    expect(pairs.at(-1)).toEqual(['k999', '999']);
    expect(parseInfotext(`p\n${line}`).params['k999']).toBe('999');
  });
});
