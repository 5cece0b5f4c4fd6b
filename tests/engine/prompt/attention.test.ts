import { describe, expect, it } from 'vitest';
import { BREAK_MARKER, isBreak, parsePromptAttention } from '../../../src-main/engine/prompt/index.js';

const pairs = (text: string): Array<[string, number]> => parsePromptAttention(text).map((f) => [f.text, f.weight]);

describe('parsePromptAttention (A1111 prompt_parser)', () => {
  it("reproduces A1111's docstring examples", () => {
    expect(pairs('normal text')).toEqual([['normal text', 1.0]]);
    expect(pairs('an (important) word')).toEqual([['an ', 1.0], ['important', 1.1], [' word', 1.0]]);
    expect(pairs('(unbalanced')).toEqual([['unbalanced', 1.1]]);
    expect(pairs('\\(literal\\]')).toEqual([['(literal]', 1.0]]);
    expect(pairs('(unnecessary)(parens)')).toEqual([['unnecessaryparens', 1.1]]);
    expect(pairs('a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).')).toEqual([
      ['a ', 1.0],
      ['house', 1.5730000000000004],
      [' ', 1.1],
      ['on', 1.0],
      [' a ', 1.1],
      ['hill', 0.55],
      [', sun, ', 1.1],
      ['sky', 1.4641000000000006],
      ['.', 1.1],
    ]);
  });

  it('nests round and square brackets multiplicatively', () => {
    expect(pairs('((word))')).toEqual([['word', 1.2100000000000002]]);
    expect(pairs('[word]')).toEqual([['word', 1 / 1.1]]);
    expect(pairs('[[word]]')).toEqual([['word', 1 / 1.1 / 1.1]]);
    expect(pairs('(word:1.3)')).toEqual([['word', 1.3]]);
    expect(pairs('((word:1.5))')).toEqual([['word', 1.5 * 1.1]]);
    expect(pairs('(a:-1.5) (b:+.5) (c:2.)')).toEqual([['a', -1.5], [' ', 1], ['b', 0.5], [' ', 1], ['c', 2]]);
  });

  it('handles escapes', () => {
    expect(pairs('\\(a\\) \\[b\\] \\\\ c')).toEqual([['(a) [b] \\ c', 1]]);
    expect(pairs('lone \\ backslash')).toEqual([['lone  backslash', 1]]);
    expect(pairs('(a\\)b)')).toEqual([['a)b', 1.1]]);
  });

  it('treats unmatched closing brackets and stray colons as text', () => {
    expect(pairs('a) b] c')).toEqual([['a) b] c', 1]]);
    expect(pairs('a:b (c:d)')).toEqual([['a:b ', 1], ['c:d', 1.1]]);
    expect(pairs('x:1.2) y')).toEqual([['x:1.2) y', 1]]);
    expect(pairs('[unclosed')).toEqual([['unclosed', 1 / 1.1]]);
    expect(pairs('([mixed)]')).toEqual([['mixed', 1.1 / 1.1]]);
  });

  it('returns [["", 1]] for empty input and empty brackets', () => {
    expect(pairs('')).toEqual([['', 1]]);
    expect(pairs('()')).toEqual([['', 1]]);
    expect(pairs('[]')).toEqual([['', 1]]);
  });

  it('splits on BREAK as a whole upper-case word', () => {
    expect(pairs('a BREAK b')).toEqual([['a', 1], ['BREAK', -1], ['b', 1]]);
    expect(pairs('a\nBREAK\tb')).toEqual([['a', 1], ['BREAK', -1], ['b', 1]]);
    expect(pairs('BREAK')).toEqual([['', 1], ['BREAK', -1], ['', 1]]);
    expect(pairs('BREAKfast break aBREAK BREAK_')).toEqual([['BREAKfast break aBREAK BREAK_', 1]]);
    expect(pairs('(a BREAK b:1.2)')).toEqual([['a', 1.2], ['BREAK', -1.2], ['b', 1.2]]);
    const f = parsePromptAttention('x BREAK y');
    expect(isBreak(f[1]!)).toBe(true);
    expect(f[1]).toEqual(BREAK_MARKER);
    // inside brackets the marker's weight is multiplied too, so it no longer is a BREAK (as in A1111)
    expect(isBreak(parsePromptAttention('(BREAK)')[1]!)).toBe(false);
  });

  it('parses Unicode decimal digits in weights like Python float()', () => {
    expect(pairs('(a:١.٥)')).toEqual([['a', 1.5]]);
  });

  it('keeps weights that Python float() rejects as literal text (A1111 would raise)', () => {
    expect(pairs('(a:1.2.3)')).toEqual([['a:1.2.3)', 1.1]]);
    expect(pairs('(a:.)')).toEqual([['a:.)', 1.1]]);
  });
});
