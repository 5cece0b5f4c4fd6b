// GPT-2/CLIP reversible byte <-> unicode mapping: every UTF-8 byte is shown as one printable
// character, so that BPE never sees whitespace or control characters.

function buildByteToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b); // '!'..'~'
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b); // '¡'..'¬'
  for (let b = 0xae; b <= 0xff; b++) bs.push(b); // '®'..'ÿ'
  const table: string[] = new Array<string>(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) {
      table[b] = String.fromCharCode(256 + n);
      n++;
    }
  }
  return table;
}

/** BYTE_TO_UNICODE[b] is the character standing for byte b. */
export const BYTE_TO_UNICODE: readonly string[] = buildByteToUnicode();

/** Inverse of BYTE_TO_UNICODE. */
export const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_UNICODE.map((c, b) => [c, b]));

const utf8 = new TextEncoder();

/** The byte-level form of a pre-token: its UTF-8 bytes, each replaced by its stand-in character. */
export function toByteLevel(token: string): string {
  let ascii = true;
  for (let i = 0; i < token.length; i++) {
    if (token.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  let out = '';
  if (ascii) {
    for (let i = 0; i < token.length; i++) out += BYTE_TO_UNICODE[token.charCodeAt(i)];
    return out;
  }
  for (const b of utf8.encode(token)) out += BYTE_TO_UNICODE[b];
  return out;
}
