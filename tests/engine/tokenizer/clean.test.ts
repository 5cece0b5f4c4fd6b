import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { basicClean, clipClean, fixText, whitespaceClean } from '../../../src-main/engine/tokenizer/clean.js';
import { ftfyUnescapeHtml, htmlUnescape } from '../../../src-main/engine/tokenizer/html.js';
import { fixEncoding, isBad } from '../../../src-main/engine/tokenizer/mojibake.js';
import { readJsonl, repoRoot } from '../../helpers/shared.js';

const fixture = (name: string): string => path.join(repoRoot, 'tests', 'fixtures', 'tokenizer', name);

describe('fixText (ftfy.fix_text)', () => {
  it('matches ftfy 6.3.1 on the generated fixture (mojibake included)', () => {
    const rows = readJsonl<{ in: string; out: string }>(fixture('ftfy_fix_text.jsonl'));
    expect(rows.length).toBeGreaterThan(1000);
    const mismatches = rows.filter((r) => fixText(r.in) !== r.out).map((r) => r.in);
    expect(mismatches).toEqual([]);
  });

  it('reproduces the examples of ftfy documentation', () => {
    expect(fixText('âœ” No problems')).toBe('✔ No problems');
    expect(fixText('&macr;\\_(ã\x83\x84)_/&macr;')).toBe('¯\\_(ツ)_/¯');
    // (ftfy's docstring says "...", but ftfy 6.3.1 really returns the ellipsis character)
    expect(fixText('Broken text&hellip; it&#x2019;s ﬂubberiﬁc!')).toBe("Broken text… it's flubberific!");
    expect(fixText('ＬＯＵＤ　ＮＯＩＳＥＳ')).toBe('LOUD NOISES');
    expect(fixText('Ｕﾀｰﾝ')).toBe('Uターン');
    expect(fixText('ﬂuﬃeﬆ')).toBe('fluffiest');
    expect(fixText('\u201chere\u2019s a test\u201d')).toBe('"here\'s a test"');
    expect(fixText('sÃ³')).toBe('só');
    expect(fixText('voilÃ  le travail')).toBe('voilà le travail');
    expect(fixText('Ã la mode')).toBe('à la mode');
    expect(fixText('P&EACUTE;REZ')).toBe('PÉREZ');
    expect(fixText('&nTILDE;')).toBe('&nTILDE;');
  });

  it('fixes line breaks, terminal escapes, control characters, NFC', () => {
    expect(fixText('a\r\nb\rc\u2028d\u2029e\x85f')).toBe('a\nb\nc\nd\ne…f');
    expect(fixText('\x1b[36;44mblue\x1b[0m')).toBe('blue');
    expect(fixText('a\x00b\x0bc\ufeffd\u206ae')).toBe('abcde');
    expect(fixText('cafe\u0301')).toBe('café');
    expect(fixText('')).toBe('');
  });

  it("stops decoding HTML entities from the first line that contains '<'", () => {
    expect(fixText('&lt;b&gt;\n&amp;')).toBe('<b>\n&');
    expect(fixText('x < y &amp; z\n&ldquo;q&rdquo;')).toBe('x < y &amp; z\n&ldquo;q&rdquo;');
    expect(fixText('&ldquo;a&rdquo;\nb < c\n&ldquo;d&rdquo;')).toBe('"a"\nb < c\n&ldquo;d&rdquo;');
  });

  it('repeats fixes until nothing changes', () => {
    expect(fixText('&amp;lt;')).toBe('<');
    expect(fixText('&amp;amp;amp;')).toBe('&');
  });
});

describe('HTML unescaping', () => {
  it('htmlUnescape follows Python html.unescape', () => {
    expect(htmlUnescape('&amp; &lt; &gt; &quot; &#39; &#x27;')).toBe('& < > " \' \'');
    expect(htmlUnescape('&notit; &notin; &not')).toBe('¬it; ∉ ¬');
    expect(htmlUnescape('&ampx &amp &foo; &; &#; &#x;')).toBe('&x & &foo; &; &#; &#x;');
    expect(htmlUnescape('&#0; &#133; &#x85; &#xD800; &#1114112; &#1; &#65279;')).toBe('\ufffd … … \ufffd \ufffd  \ufeff');
    expect(htmlUnescape('&#99999999999999999999999;')).toBe('\ufffd');
    expect(htmlUnescape('no entities')).toBe('no entities');
  });

  it('ftfyUnescapeHtml only decodes references that end with ";"', () => {
    expect(ftfyUnescapeHtml('&notit; &not &amp')).toBe('&notit; &not &amp');
    expect(ftfyUnescapeHtml('&notin; &EACUTE; &NTILDE; &#x41; &#65;')).toBe('∉ É Ñ A A');
    expect(ftfyUnescapeHtml('&#12ab;')).toBe('&#12ab;');
  });
});

describe('mojibake', () => {
  it('detects and fixes common UTF-8 / Windows-1252 mojibake', () => {
    expect(isBad('cafÃ©')).toBe(true);
    expect(isBad('café')).toBe(false);
    expect(fixEncoding('cafÃ©')).toBe('café');
    expect(fixEncoding('â€œquotedâ€\x9d')).toBe('“quoted”');
    expect(fixEncoding('ÐœÐ¾Ñ\x81ÐºÐ²Ð°')).toBe('Москва');
    expect(fixEncoding('Ã¢â‚¬Å“')).toBe('“');
  });

  it("copies ftfy's quirk: a C0 byte or CESU-8 pair before a line's final newline eats it", () => {
    expect(fixText('cafÃ© À\nnext')).toBe('café next');
    expect(fixText('cafÃ© Àx\nnext')).toBe('café Àx\nnext');
    expect(fixText('x \u00c3\u00a9 \u00ed\u00a0\u00bd\u00ed\u00b8\n')).toBe('x é 😊');
  });

  it('leaves legitimate text alone', () => {
    for (const s of ['café', 'naïve', 'Zürich', 'Москва', '東京', '😀', '½ × 2 = 1', 'Ωmega', '“quotes”', '¿qué?', '50 €']) {
      expect(fixEncoding(s)).toBe(s);
    }
  });
});

describe('CLIP clean-up', () => {
  it('basicClean / whitespaceClean / clipClean', () => {
    expect(basicClean('  &amp;amp;  ')).toBe('&');
    expect(basicClean('x < y &amp;amp; z')).toBe('x < y & z');
    expect(whitespaceClean(' a \t\n b\u00a0\u3000c \x1c')).toBe('a b c');
    expect(clipClean('  A  PHOTO\nOf  ')).toBe('a photo of');
    expect(clipClean('ΣΑΣ')).toBe('σας');
  });
});
