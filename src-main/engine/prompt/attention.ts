// AUTOMATIC1111 prompt emphasis syntax (modules/prompt_parser.py: parse_prompt_attention), ported
// to behave identically:
//   (text)        weight x1.1          ((text)) x1.21, ...
//   [text]        weight /1.1
//   (text:1.3)    weight x1.3          the number may be signed: (text:-0.5), (text:+.5)
//   \( \) \[ \] \\  literal characters; a lone backslash is dropped
//   unbalanced '(' / '[' apply to the rest of the prompt; unmatched ')' / ']' are literal text
//   BREAK         (a whole word, upper case) ends the current 75-token chunk: { text: 'BREAK', weight: -1 }
// Neighbouring fragments of exactly equal weight are merged.
//
// One deliberate difference: where A1111 raises (a weight such as "(a:1.2.3)" or "(a:.)" that Python's
// float() rejects), the ":1.2.3)" is kept as literal text instead.

export interface PromptFragment {
  text: string;
  weight: number;
}

/** The marker parsePromptAttention emits for BREAK. */
export const BREAK_MARKER: Readonly<PromptFragment> = Object.freeze({ text: 'BREAK', weight: -1 });

export function isBreak(fragment: PromptFragment): boolean {
  return fragment.text === 'BREAK' && fragment.weight === -1;
}

export const ROUND_BRACKET_MULTIPLIER = 1.1;
export const SQUARE_BRACKET_MULTIPLIER = 1 / 1.1;

// Python's re.X pattern, alternative by alternative. `\d` in a Python str pattern is any Unicode decimal digit.
const ATTENTION_RE = /\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:([+-]?[.\p{Nd}]+)\)|\)|\]|[^\\()[\]:]+|:/gu;

// re_break = r"\s*\bBREAK\b\s*" (Python `re`: Unicode \s, \b between \w = [\p{L}\p{N}_] and the rest).
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const BREAK_RE = new RegExp(`[${PY_SPACE}]*(?<![\\p{L}\\p{N}_])BREAK(?![\\p{L}\\p{N}_])[${PY_SPACE}]*`, 'u');

/** Python float() of the matched weight, or undefined where Python would raise. */
function parseWeight(raw: string): number | undefined {
  // Python's float() accepts any Unicode decimal digits; map them to ASCII first.
  const ascii = raw.replace(/\p{Nd}/gu, (d) => {
    // Decimal digits are encoded in runs of 0..9: the value is the offset from the run's start.
    const cp = d.codePointAt(0)!;
    let start = cp;
    while (start > 0 && /\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
    return String((cp - start) % 10);
  });
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/u.test(ascii)) return undefined;
  return Number(ascii);
}

/**
 * Splits a prompt into text fragments with attention weights, exactly like A1111's
 * parse_prompt_attention. Never returns an empty list (an empty prompt gives [{ text: '', weight: 1 }]).
 */
export function parsePromptAttention(text: string): PromptFragment[] {
  const res: PromptFragment[] = [];
  const roundBrackets: number[] = [];
  const squareBrackets: number[] = [];

  const multiplyRange = (start: number, multiplier: number): void => {
    for (let p = start; p < res.length; p++) res[p]!.weight *= multiplier;
  };

  const pushText = (s: string): void => {
    const parts = s.split(BREAK_RE);
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) res.push({ ...BREAK_MARKER });
      res.push({ text: parts[i]!, weight: 1.0 });
    }
  };

  ATTENTION_RE.lastIndex = 0;
  for (let m = ATTENTION_RE.exec(text); m !== null; m = ATTENTION_RE.exec(text)) {
    const token = m[0];
    const rawWeight = m[1];
    if (token.startsWith('\\')) {
      res.push({ text: token.slice(1), weight: 1.0 });
    } else if (token === '(') {
      roundBrackets.push(res.length);
    } else if (token === '[') {
      squareBrackets.push(res.length);
    } else if (rawWeight !== undefined && roundBrackets.length > 0 && parseWeight(rawWeight) !== undefined) {
      multiplyRange(roundBrackets.pop()!, parseWeight(rawWeight)!);
    } else if (token === ')' && roundBrackets.length > 0) {
      multiplyRange(roundBrackets.pop()!, ROUND_BRACKET_MULTIPLIER);
    } else if (token === ']' && squareBrackets.length > 0) {
      multiplyRange(squareBrackets.pop()!, SQUARE_BRACKET_MULTIPLIER);
    } else {
      pushText(token);
    }
  }

  for (const pos of roundBrackets) multiplyRange(pos, ROUND_BRACKET_MULTIPLIER);
  for (const pos of squareBrackets) multiplyRange(pos, SQUARE_BRACKET_MULTIPLIER);

  if (res.length === 0) res.push({ text: '', weight: 1.0 });

  // Merge runs of identical weights.
  let i = 0;
  while (i + 1 < res.length) {
    if (res[i]!.weight === res[i + 1]!.weight) {
      res[i]!.text += res[i + 1]!.text;
      res.splice(i + 1, 1);
    } else {
      i += 1;
    }
  }
  return res;
}
