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

const RE_PARAM = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;
const RE_SIZE = /^(\d+)x(\d+)$/;

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
  if ([...last.matchAll(RE_PARAM)].length < 3) {
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
  for (const m of last.matchAll(RE_PARAM)) {
    const k = m[1]!;
    let v = m[2]!;
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
