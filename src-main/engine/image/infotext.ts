// AUTOMATIC1111's "parameters" infotext: writer and parser (the gallery also reads other tools' PNGs).
import type { SchedulerName } from '../schedulers/types.js';

/** Our scheduler names → the sampler names A1111 writes (A1111 has no plain DDPM; "DDPM" is ours). */
export const A1111_SAMPLER_NAMES: Readonly<Record<SchedulerName, string>> = {
  ddpm: 'DDPM',
  ddim: 'DDIM',
  pndm: 'PLMS',
  lms: 'LMS',
  euler: 'Euler',
  'euler-ancestral': 'Euler a',
  heun: 'Heun',
  'dpmpp-2m': 'DPM++ 2M',
  unipc: 'UniPC',
  lcm: 'LCM',
};

/** Reverse lookup, case-insensitive; also accepts our own names and "DPM++ 2M Karras"-style suffixed names. */
export function schedulerFromA1111(name: string): SchedulerName | undefined {
  const n = name.trim().toLowerCase();
  for (const [ours, theirs] of Object.entries(A1111_SAMPLER_NAMES) as [SchedulerName, string][]) {
    if (theirs.toLowerCase() === n || ours === n) return ours;
  }
  for (const [ours, theirs] of Object.entries(A1111_SAMPLER_NAMES) as [SchedulerName, string][]) {
    if (n === `${theirs.toLowerCase()} karras`) return ours;
  }
  return undefined;
}

/** A1111 generation_parameters_copypaste.quote: JSON-quote values that contain ',', ':' or a newline. */
export function quoteInfotextValue(value: string): string {
  if (!value.includes(',') && !value.includes('\n') && !value.includes(':')) return value;
  return JSON.stringify(value);
}

export interface InfotextFields {
  prompt: string;
  negativePrompt?: string;
  /** Ordered "Key: value" pairs; undefined/null values are left out, as A1111 does. */
  params: [key: string, value: string | number | undefined | null][];
}

/**
 * `prompt\nNegative prompt: neg\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 123, Size: 512x512, Model: name`
 * The negative prompt line is omitted when it is empty, as in A1111 (create_infotext).
 */
export function formatInfotext(fields: InfotextFields): string {
  const neg = fields.negativePrompt ? `\nNegative prompt: ${fields.negativePrompt}` : '';
  const params = fields.params
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => (k === String(v) ? k : `${k}: ${quoteInfotextValue(String(v))}`))
    .join(', ');
  return `${fields.prompt}${neg}\n${params}`.trim();
}

export interface ParsedInfotext {
  prompt: string;
  negativePrompt: string;
  /** Every "Key: value" of the last line, unquoted. "Size: 512x512" also gives "Size-1"/"Size-2" as A1111 does. */
  params: Record<string, string>;
  steps?: number;
  sampler?: SchedulerName;
  samplerName?: string;
  cfgScale?: number;
  seed?: string;
  width?: number;
  height?: number;
  model?: string;
  denoisingStrength?: number;
  maskBlur?: number;
}

const RE_SIZE = /^(\d+)x(\d+)$/;

const isWordChar = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; // [A-Za-z0-9_]
const isKeyChar = (c: number): boolean => isWordChar(c) || c === 32 || c === 45 || c === 47; // [\w \-/]
/** JavaScript's \s (ASCII fast path). */
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || (c > 127 && /\s/.test(String.fromCharCode(c)));
const isLineTerminator = (c: number): boolean => c === 10 || c === 13 || c === 0x2028 || c === 0x2029;

/** A1111 writes a few dozen; a line with more is not a tool's, and the rest of it is not read. */
const MAX_INFOTEXT_PAIRS = 1000;

/** The end (after the closing quote) of a JSON-style quoted value starting at `open`, or -1 when it does not close. */
function quotedEnd(line: string, open: number): number {
  let i = open + 1;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (c === 34) return i === open + 1 ? -1 : i + 1; // '""' is not a quoted value for A1111 either
    if (c === 92) {
      if (i + 1 >= line.length || isLineTerminator(line.charCodeAt(i + 1))) return -1;
      i += 2;
    } else i++;
  }
  return -1;
}

/**
 * The "Key: value" pairs of an infotext's last line, in one forward pass (linear in the line's length).
 * Same pairs as A1111's regex `\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)` — which backtracks
 * quadratically on a long line without a match, so it is not used. A key is a run of [\w \-/] that starts with
 * a word character, is at least 2 long and ends right before ':'; no shorter key inside a failed run can match
 * either (it would end at the same place), so the scan jumps past the whole run. At most MAX_INFOTEXT_PAIRS.
 */
export function infotextPairs(line: string): [key: string, value: string][] {
  const out: [string, string][] = [];
  let i = 0;
  const n = line.length;
  while (i < n && out.length < MAX_INFOTEXT_PAIRS) {
    if (!isWordChar(line.charCodeAt(i))) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < n && isKeyChar(line.charCodeAt(end))) end++;
    if (end - i < 2 || line.charCodeAt(end) !== 58 /* : */) {
      i = end;
      continue;
    }
    const key = line.slice(i, end);
    let v = end + 1;
    while (v < n && isSpace(line.charCodeAt(v))) v++;
    let value: string | undefined;
    if (line.charCodeAt(v) === 34) {
      const close = quotedEnd(line, v);
      if (close !== -1 && (close === n || line.charCodeAt(close) === 44)) {
        value = line.slice(v, close);
        i = close + 1;
      }
    }
    if (value === undefined) {
      let comma = line.indexOf(',', v);
      if (comma === -1) comma = n;
      value = line.slice(v, comma);
      i = comma + 1;
    }
    out.push([key, value]);
  }
  return out;
}

function unquote(v: string): string {
  try {
    const u = JSON.parse(v) as unknown;
    return typeof u === 'string' ? u : v;
  } catch {
    return v;
  }
}

function num(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** A1111 generation_parameters_copypaste.parse_generation_parameters, plus typed fields. */
export function parseInfotext(text: string): ParsedInfotext {
  const all = text.trim().split('\n');
  let last = all.pop() ?? '';
  const lines = all;
  let pairs = infotextPairs(last);
  if (pairs.length < 3) {
    pairs = [];
    lines.push(last);
    last = '';
  }
  let prompt = '';
  let negativePrompt = '';
  let doneWithPrompt = false;
  for (let line of lines) {
    line = line.trim();
    if (line.startsWith('Negative prompt:')) {
      doneWithPrompt = true;
      line = line.slice(16).trim();
    }
    if (doneWithPrompt) negativePrompt += (negativePrompt === '' ? '' : '\n') + line;
    else prompt += (prompt === '' ? '' : '\n') + line;
  }
  const params: Record<string, string> = {};
  for (const [k, raw] of pairs) {
    let v = raw;
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = unquote(v);
    params[k] = v;
    const size = RE_SIZE.exec(v);
    if (size) {
      params[`${k}-1`] = size[1]!;
      params[`${k}-2`] = size[2]!;
    }
  }
  const out: ParsedInfotext = { prompt, negativePrompt, params };
  out.steps = num(params['Steps']);
  if (params['Sampler'] !== undefined) {
    out.samplerName = params['Sampler'];
    out.sampler = schedulerFromA1111(params['Sampler']);
  }
  out.cfgScale = num(params['CFG scale']);
  if (params['Seed'] !== undefined && /^-?\d+$/.test(params['Seed'])) out.seed = params['Seed'];
  out.width = num(params['Size-1']);
  out.height = num(params['Size-2']);
  if (params['Model'] !== undefined) out.model = params['Model'];
  out.denoisingStrength = num(params['Denoising strength']);
  out.maskBlur = num(params['Mask blur']);
  for (const k of Object.keys(out) as (keyof ParsedInfotext)[]) if (out[k] === undefined) delete out[k];
  return out;
}
