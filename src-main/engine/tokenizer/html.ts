// HTML character references, decoded the two ways CLIP's text clean-up decodes them:
//  - `htmlUnescape`: the HTML5 algorithm of Python's `html.unescape` (named references with or
//    without ';' by longest prefix, numeric references with the HTML5 replacements for invalid ones);
//  - `ftfyUnescapeHtml`: ftfy's stricter `unescape_html` fixer, which only decodes `&name;` references
//    that end in ';' (plus some upper-cased Latin names such as `&EACUTE;`) and numeric ones that
//    consume their ';'.
import { HTML5_ENTITIES, HTML5_UPPERCASE_ENTITIES } from './html-entities.js';

/** Numeric references that HTML5 maps to another character (mostly Windows-1252 for 0x80..0x9F). */
const INVALID_CHARREFS: ReadonlyMap<number, string> = new Map<number, string>([
  [0x00, '\ufffd'],
  [0x0d, '\r'],
  [0x80, '\u20ac'],
  [0x81, '\x81'],
  [0x82, '\u201a'],
  [0x83, '\u0192'],
  [0x84, '\u201e'],
  [0x85, '\u2026'],
  [0x86, '\u2020'],
  [0x87, '\u2021'],
  [0x88, '\u02c6'],
  [0x89, '\u2030'],
  [0x8a, '\u0160'],
  [0x8b, '\u2039'],
  [0x8c, '\u0152'],
  [0x8d, '\x8d'],
  [0x8e, '\u017d'],
  [0x8f, '\x8f'],
  [0x90, '\x90'],
  [0x91, '\u2018'],
  [0x92, '\u2019'],
  [0x93, '\u201c'],
  [0x94, '\u201d'],
  [0x95, '\u2022'],
  [0x96, '\u2013'],
  [0x97, '\u2014'],
  [0x98, '\u02dc'],
  [0x99, '\u2122'],
  [0x9a, '\u0161'],
  [0x9b, '\u203a'],
  [0x9c, '\u0153'],
  [0x9d, '\x9d'],
  [0x9e, '\u017e'],
  [0x9f, '\u0178'],
]);

/** Code points that a numeric reference may not produce: they decode to nothing. */
function isInvalidCodePoint(n: number): boolean {
  if ((n >= 0x1 && n <= 0x8) || n === 0xb || (n >= 0xe && n <= 0x1f) || (n >= 0x7f && n <= 0x9f)) return true;
  if (n >= 0xfdd0 && n <= 0xfdef) return true;
  return (n & 0xfffe) === 0xfffe; // U+FFFE/U+FFFF of every plane
}

function numericCharref(digits: string, hex: boolean): string {
  // Python's int() has no upper bound; anything that does not fit is simply "too large".
  const num = digits.length > 12 ? Number.POSITIVE_INFINITY : parseInt(digits, hex ? 16 : 10);
  const mapped = INVALID_CHARREFS.get(num);
  if (mapped !== undefined) return mapped;
  if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
  if (isInvalidCodePoint(num)) return '';
  return String.fromCodePoint(num);
}

function lookupEntity(name: string): string | undefined {
  return Object.hasOwn(HTML5_ENTITIES, name) ? HTML5_ENTITIES[name] : undefined;
}

// Same pattern as Python's html module: '&' then a numeric reference or up to 32 name characters.
const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function replaceCharref(_m: string, s: string): string {
  if (s.charCodeAt(0) === 0x23 /* # */) {
    const hex = s[1] === 'x' || s[1] === 'X';
    let digits = s.slice(hex ? 2 : 1);
    if (digits.endsWith(';')) digits = digits.slice(0, -1);
    return numericCharref(digits, hex);
  }
  const whole = lookupEntity(s);
  if (whole !== undefined) return whole;
  // Longest prefix that is a known name (at least 2 characters), rest kept as text.
  // (Python slices by code points; names are ASCII so a prefix never splits a surrogate pair.)
  const cps = Array.from(s);
  for (let x = cps.length - 1; x > 1; x--) {
    const prefix = cps.slice(0, x).join('');
    const hit = lookupEntity(prefix);
    if (hit !== undefined) return hit + cps.slice(x).join('');
  }
  return '&' + s;
}

/** Python's `html.unescape` (HTML5 rules). */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF_RE, replaceCharref);
}

const FTFY_ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/gu;

function ftfyEntityFixup(text: string): string {
  const name = text.slice(1);
  if (Object.hasOwn(HTML5_ENTITIES, name)) return HTML5_ENTITIES[name]!;
  if (Object.hasOwn(HTML5_UPPERCASE_ENTITIES, name)) return HTML5_UPPERCASE_ENTITIES[name]!;
  if (text.startsWith('&#')) {
    const unescaped = htmlUnescape(text);
    // Only accept it when the reference consumed its ';'.
    return unescaped.includes(';') ? text : unescaped;
  }
  return text;
}

/** ftfy's `unescape_html` fixer: only unambiguous references that end with ';'. */
export function ftfyUnescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(FTFY_ENTITY_RE, ftfyEntityFixup);
}
