// CLIP's text clean-up, as OpenAI's `simple_tokenizer.py` does it before BPE:
//
//   text = ftfy.fix_text(text)                      (ftfy 6.x defaults)
//   text = html.unescape(html.unescape(text)).strip()
//   text = re.sub(r'\s+', ' ', text).strip()
//   text = text.lower()
//
// `fixText` re-implements the parts of ftfy.fix_text that apply to prompts: per-line segments, the
// 'auto' HTML unescaping (disabled from the first line that contains '<' on), C1 controls as
// Windows-1252, Latin ligatures, full/half-width forms, curly quotes, line breaks, surrogates, ANSI
// terminal escapes, control characters and NFC, repeated until nothing changes; and the common cases
// of mojibake repair (see mojibake.ts).
import { ftfyUnescapeHtml, htmlUnescape } from './html.js';
import { fixEncoding } from './mojibake.js';

/** Python `re`/`regex` `\s` (Unicode White_Space). Unlike JS `\s`: includes U+0085, excludes U+FEFF. */
export const PY_WHITESPACE_CLASS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Python `str.isspace()` characters (what `str.strip()` removes): `\s` plus U+001C..U+001F. */
const PY_ISSPACE_CLASS = PY_WHITESPACE_CLASS + '\\x1c-\\x1f';

const STRIP_RE = new RegExp(`^[${PY_ISSPACE_CLASS}]+|[${PY_ISSPACE_CLASS}]+$`, 'gu');
const WHITESPACE_RUN_RE = new RegExp(`[${PY_WHITESPACE_CLASS}]+`, 'gu');

/** Python's `str.strip()` with no argument. */
export function pyStrip(text: string): string {
  return text.replace(STRIP_RE, '');
}

// --- individual ftfy fixers ------------------------------------------------------------------------

/** Windows-1252 meaning of the C1 controls U+0080..U+009F ("sloppy": unassigned bytes stay as they are). */
const SLOPPY_CP1252_C1 = [
  '\u20ac', '\x81', '\u201a', '\u0192', '\u201e', '\u2026', '\u2020', '\u2021',
  '\u02c6', '\u2030', '\u0160', '\u2039', '\u0152', '\x8d', '\u017d', '\x8f',
  '\x90', '\u2018', '\u2019', '\u201c', '\u201d', '\u2022', '\u2013', '\u2014',
  '\u02dc', '\u2122', '\u0161', '\u203a', '\u0153', '\x9d', '\u017e', '\u0178',
];
const C1_RE = /[\x80-\x9f]/gu;
export function fixC1Controls(text: string): string {
  return text.replace(C1_RE, (c) => SLOPPY_CP1252_C1[c.charCodeAt(0) - 0x80]!);
}

const LIGATURES: Readonly<Record<string, string>> = {
  '\u0132': 'IJ', '\u0133': 'ij', '\u0149': '\u02bcn',
  '\u01f1': 'DZ', '\u01f2': 'Dz', '\u01f3': 'dz',
  '\u01c4': 'D\u017d', '\u01c5': 'D\u017e', '\u01c6': 'd\u017e',
  '\u01c7': 'LJ', '\u01c8': 'Lj', '\u01c9': 'lj',
  '\u01ca': 'NJ', '\u01cb': 'Nj', '\u01cc': 'nj',
  '\ufb00': 'ff', '\ufb01': 'fi', '\ufb02': 'fl', '\ufb03': 'ffi', '\ufb04': 'ffl', '\ufb05': '\u017ft', '\ufb06': 'st',
};
const LIGATURE_RE = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/gu;
export function fixLatinLigatures(text: string): string {
  return text.replace(LIGATURE_RE, (c) => LIGATURES[c] ?? c);
}

/** U+3000 -> ' ', and every U+FF01..U+FFEF whose NFKC form differs -> that form. */
const WIDTH_MAP: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>([['\u3000', ' ']]);
  for (let cp = 0xff01; cp < 0xfff0; cp++) {
    const c = String.fromCharCode(cp);
    const alt = c.normalize('NFKC');
    if (alt !== c) m.set(c, alt);
  }
  return m;
})();
const WIDTH_RE = /[\u3000\uff01-\uffef]/gu;
export function fixCharacterWidth(text: string): string {
  return text.replace(WIDTH_RE, (c) => WIDTH_MAP.get(c) ?? c);
}

const SINGLE_QUOTE_RE = /[\u02bc\u2018-\u201b]/gu;
const DOUBLE_QUOTE_RE = /[\u201c-\u201f]/gu;
export function uncurlQuotes(text: string): string {
  return text.replace(DOUBLE_QUOTE_RE, '"').replace(SINGLE_QUOTE_RE, "'");
}

const LINE_BREAK_RE = /\r\n|[\r\u2028\u2029\x85]/gu;
export function fixLineBreaks(text: string): string {
  return text.replace(LINE_BREAK_RE, '\n');
}

/** Lone UTF-16 surrogates become U+FFFD (paired ones already are one code point in JS). */
const LONE_SURROGATE_RE = /\p{Cs}/gu;
export function fixSurrogates(text: string): string {
  return text.replace(LONE_SURROGATE_RE, '\ufffd');
}

// Python's `\d` in a str pattern is any Unicode decimal digit.
const ANSI_RE = /\x1b\[((?:\p{Nd}|;)*)([a-zA-Z])/gu;
export function removeTerminalEscapes(text: string): string {
  return text.replace(ANSI_RE, '');
}

const CONTROL_CHARS_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/gu;
export function removeControlChars(text: string): string {
  return text.replace(CONTROL_CHARS_RE, '');
}

// --- ftfy.fix_text ---------------------------------------------------------------------------------

// ASCII-only text without '&', ESC or C0/DEL controls is a fixed point of every fixer.
const NOTHING_TO_FIX_RE = /^[\x20-\x25\x27-\x7e\t\n]*$/u;

function fixSegment(segment: string, unescapeHtml: boolean): string {
  let text = segment;
  for (;;) {
    const orig = text;
    if (unescapeHtml) text = ftfyUnescapeHtml(text);
    text = fixEncoding(text);
    text = fixC1Controls(text);
    text = fixLatinLigatures(text);
    text = fixCharacterWidth(text);
    text = uncurlQuotes(text);
    text = fixLineBreaks(text);
    text = fixSurrogates(text);
    text = removeTerminalEscapes(text);
    text = removeControlChars(text);
    text = text.normalize('NFC');
    if (text === orig) return text;
  }
}

/**
 * ftfy.fix_text with its default configuration (ftfy 6.x), as CLIP calls it.
 * The text is fixed line by line; once a line contains '<' (looks like real HTML), HTML entities are
 * no longer decoded in that line nor in any later line.
 */
export function fixText(text: string): string {
  if (NOTHING_TO_FIX_RE.test(text)) return text;
  let unescapeHtml = true;
  let out = '';
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    const segment = text.slice(pos, end);
    if (unescapeHtml && segment.includes('<')) unescapeHtml = false;
    out += fixSegment(segment, unescapeHtml);
    pos = end;
  }
  return out;
}

/** CLIP's `basic_clean`: ftfy, html.unescape twice, strip. */
export function basicClean(text: string): string {
  return pyStrip(htmlUnescape(htmlUnescape(fixText(text))));
}

/** CLIP's `whitespace_clean`: every whitespace run becomes one space, then strip. */
export function whitespaceClean(text: string): string {
  return pyStrip(text.replace(WHITESPACE_RUN_RE, ' '));
}

/** Everything CLIP does to a prompt before its pre-tokenizing regex. */
export function clipClean(text: string): string {
  return whitespaceClean(basicClean(text)).toLowerCase();
}
