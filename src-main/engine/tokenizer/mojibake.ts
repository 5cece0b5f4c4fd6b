// Mojibake repair, following ftfy 6.x's `fix_encoding` (default options):
//
//   repeat until nothing changes:
//     - ASCII text, or text that does not look bad (BADNESS heuristic), is left alone;
//     - for each single-byte encoding (latin-1, sloppy windows-125x, iso-8859-2, macroman, cp437) that
//       can represent the text: encode it, put back 0xA0 bytes that became spaces (restore_byte_a0),
//       turn lossy sequences into U+FFFD (sloppy codecs), and decode as UTF-8 (or ftfy's
//       utf-8-variants: CESU-8 surrogate pairs and Java's C0 80 null); the first one that decodes wins;
//     - otherwise fix embedded UTF-8 mojibake runs one by one (decode_inconsistent_utf8);
//     - otherwise Latin-1 text with C1 controls is read as Windows-1252, or the C1 controls alone.
//
// The data (byte tables, detection patterns) is generated from ftfy: see mojibake-data.ts.
import { BADNESS_SOURCE, CHARMAP_ENCODINGS, CHARMAP_TABLES, UTF8_DETECTOR_SOURCE, type CharmapEncoding } from './mojibake-data.js';

const BADNESS_RE = new RegExp(BADNESS_SOURCE, 'u');
const UTF8_DETECTOR_RE = new RegExp(UTF8_DETECTOR_SOURCE, 'gu');
const ASCII_RE = /^[\x00-\x7f]*$/u;
const C1_RE = /[\x80-\x9f]/u;

/** ftfy's is_bad: does the text contain a sequence that is very likely mojibake? */
export function isBad(text: string): boolean {
  return BADNESS_RE.test(text);
}

interface Charmap {
  /** character -> byte */
  encode: Map<string, number>;
}

const CHARMAPS: ReadonlyMap<CharmapEncoding, Charmap> = new Map(
  CHARMAP_ENCODINGS.map((name) => {
    const table = CHARMAP_TABLES[name];
    const encode = new Map<string, number>();
    for (let b = 0; b < 256; b++) {
      // The ASCII range except 0x1A is always itself (ftfy's possible_encoding allows exactly that);
      // the other characters come from the table.
      if (b < 0x80 && b !== 0x1a) encode.set(String.fromCharCode(b), b);
    }
    for (const b of [...Array.from({ length: 128 }, (_, i) => 0x80 + i), 0x1a]) {
      const ch = table[b]!;
      if (!encode.has(ch)) encode.set(ch, b);
    }
    return [name, { encode }];
  }),
);

/** Encodes text in a single-byte encoding, or returns undefined if some character is not in it. */
function encodeCharmap(text: string, encoding: CharmapEncoding): Uint8Array | undefined {
  const { encode } = CHARMAPS.get(encoding)!;
  const out = new Uint8Array(text.length);
  let n = 0;
  for (const ch of text) {
    const b = encode.get(ch);
    if (b === undefined) return undefined;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

// Byte-level patterns work on "binary strings" (one char per byte, code = byte value).
function toBinary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}
function fromBinary(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// UTF-8 sequences that would be valid if a 0xA0 byte had not been turned into a space.
const ALTERED_UTF8_RE =
  /[\xc2\xc3\xc5\xce\xd0\xd9][ ]|[\xe2\xe3][ ][\x80-\x84\x86-\x9f\xa1-\xbf]|[\xe0-\xe3][\x80-\x84\x86-\x9f\xa1-\xbf][ ]|[\xf0][ ][\x80-\xbf][\x80-\xbf]|[\xf0][\x80-\xbf][ ][\x80-\xbf]|[\xf0][\x80-\xbf][\x80-\xbf][ ]/g;
// "Ã " standing for "à " (unless followed by Portuguese contractions or another space).
const A_GRAVE_WORD_RE = /\xc3 (?! |quele|quela|quilo|s )/g;
// UTF-8 sequences whose continuation bytes were lost (0x1A stands for a byte decoded as U+FFFD).
const LOSSY_UTF8_RE =
  /[\xc2-\xdf][\x1a]|[\xc2-\xc3][?]|\xed[\xa0-\xaf][\x1a?]\xed[\xb0-\xbf][\x1a?\x80-\xbf]|\xed[\xa0-\xaf][\x1a?\x80-\xbf]\xed[\xb0-\xbf][\x1a?]|[\xe0-\xef][\x1a?][\x1a\x80-\xbf]|[\xe0-\xef][\x1a\x80-\xbf][\x1a?]|[\xf0-\xf4][\x1a?][\x1a\x80-\xbf][\x1a\x80-\xbf]|[\xf0-\xf4][\x1a\x80-\xbf][\x1a?][\x1a\x80-\xbf]|[\xf0-\xf4][\x1a\x80-\xbf][\x1a\x80-\xbf][\x1a?]|\x1a/g;

function restoreByteA0(bin: string): string {
  return bin.replace(A_GRAVE_WORD_RE, '\xc3\xa0 ').replace(ALTERED_UTF8_RE, (m) => m.replace(/ /g, '\xa0'));
}

function replaceLossySequences(bin: string): string {
  return bin.replace(LOSSY_UTF8_RE, '\xef\xbf\xbd');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8 decoding; undefined where Python's decoder raises. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** ftfy's "utf-8-variants": UTF-8 plus CESU-8 surrogate pairs and Java's C0 80 for U+0000. */
function decodeUtf8Variants(bytes: Uint8Array): string | undefined {
  let out = '';
  let start = 0;
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i]!;
    // (ftfy's byte patterns end in Python's `$`, which also matches before a final '\n': a C0 or a
    // CESU-8 pair directly before the segment's closing newline swallows that newline.)
    const atFinalNewline = (k: number): boolean => k === n - 1 && bytes[k] === 0x0a;
    if (b === 0xc0 && i + 1 < n && (bytes[i + 1] === 0x80 || atFinalNewline(i + 1))) {
      const seg = decodeUtf8(bytes.subarray(start, i));
      if (seg === undefined) return undefined;
      out += seg + '\u0000';
      i += 2;
      start = i;
      continue;
    }
    if (b === 0xed && i + 1 < n && bytes[i + 1]! >= 0xa0) {
      // An encoded surrogate: only a complete high+low pair is accepted.
      if (
        i + 5 < n &&
        bytes[i + 1]! <= 0xaf &&
        bytes[i + 2]! >= 0x80 && bytes[i + 2]! <= 0xbf &&
        bytes[i + 3] === 0xed &&
        bytes[i + 4]! >= 0xb0 && bytes[i + 4]! <= 0xbf &&
        ((bytes[i + 5]! >= 0x80 && bytes[i + 5]! <= 0xbf) || atFinalNewline(i + 5))
      ) {
        const seg = decodeUtf8(bytes.subarray(start, i));
        if (seg === undefined) return undefined;
        const cp =
          ((bytes[i + 1]! & 0x0f) << 16) + ((bytes[i + 2]! & 0x3f) << 10) + ((bytes[i + 4]! & 0x0f) << 6) + (bytes[i + 5]! & 0x3f) + 0x10000;
        out += seg + String.fromCodePoint(cp);
        i += 6;
        start = i;
        continue;
      }
      return undefined;
    }
    i++;
  }
  const rest = decodeUtf8(bytes.subarray(start));
  return rest === undefined ? undefined : out + rest;
}

const STRICT_CP1252_UNDEFINED = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

function fixEncodingOneStep(text: string): string {
  if (text.length === 0 || ASCII_RE.test(text) || !isBad(text)) return text;

  const possible: CharmapEncoding[] = [];
  for (const encoding of CHARMAP_ENCODINGS) {
    const encoded = encodeCharmap(text, encoding);
    if (encoded === undefined) continue;
    possible.push(encoding);
    let bin = toBinary(encoded);
    if (encoding !== 'macroman') {
      ALTERED_UTF8_RE.lastIndex = 0;
      if (ALTERED_UTF8_RE.test(bin)) bin = restoreByteA0(bin);
      ALTERED_UTF8_RE.lastIndex = 0;
    }
    if (encoding.startsWith('sloppy')) bin = replaceLossySequences(bin);
    const bytes = fromBinary(bin);
    const variants = bin.includes('\xed') || bin.includes('\xc0');
    const fixed = variants ? decodeUtf8Variants(bytes) : decodeUtf8(bytes);
    if (fixed !== undefined) return fixed;
  }

  UTF8_DETECTOR_RE.lastIndex = 0;
  if (UTF8_DETECTOR_RE.test(text)) {
    UTF8_DETECTOR_RE.lastIndex = 0;
    const fixed = text.replace(UTF8_DETECTOR_RE, (substr) =>
      // Only shorter pieces, so that this cannot recurse forever.
      substr.length < text.length && isBad(substr) ? fixEncoding(substr) : substr,
    );
    if (fixed !== text) return fixed;
  }

  if (possible.includes('latin-1')) {
    // Latin-1 with C1 controls: probably meant as (strict) Windows-1252.
    let ok = true;
    let fixed = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (cp >= 0x80 && cp <= 0x9f) {
        if (STRICT_CP1252_UNDEFINED.has(cp)) {
          ok = false;
          break;
        }
        fixed += CHARMAP_TABLES['sloppy-windows-1252'][cp]!;
      } else {
        fixed += ch;
      }
    }
    if (ok && fixed !== text) return fixed;
  }

  if (C1_RE.test(text)) {
    return text.replace(/[\x80-\x9f]/gu, (c) => CHARMAP_TABLES['sloppy-windows-1252'][c.charCodeAt(0)]!);
  }
  return text;
}

/** ftfy's fix_encoding: undo mojibake (UTF-8 decoded as a single-byte encoding), repeatedly. */
export function fixEncoding(text: string): string {
  for (;;) {
    const prev = text;
    text = fixEncodingOneStep(text);
    if (text === prev) return text;
  }
}
