// Generation parameters from any PNG's text chunks: ours (`latent-studio` JSON request + `parameters`),
// AUTOMATIC1111 (`parameters` infotext), ComfyUI (`prompt` API graph / `workflow` UI graph JSON) and InvokeAI
// (`invokeai_metadata` JSON, older `sd-metadata`). Pure functions over the keyword → text map.
import { parseInfotext, schedulerFromA1111 } from '../engine/image/infotext.js';
// Not the engine's readPngText: engine/image/png.ts loads sharp, and the Electron main process (where the gallery
// runs) must not load native modules.
import { pngTextChunks } from './png-lite.js';
import type { ImportedParameters } from '../shared/gallery.js';

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
function seedOf(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return String(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string' && /^\d+$/.test(v.trim())) return v.trim();
  return undefined;
}
/** Deeper JSON than any tool writes (ComfyUI graphs nest 4-5 levels) is not read. */
const MAX_JSON_DEPTH = 64;

/** Whether brackets nest deeper than `max` (one pass; brackets inside strings do not count). */
function nestsDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** JSON metadata; undefined when absent, damaged or nested deeper than MAX_JSON_DEPTH (its size is capped by png-lite). */
function parseJson(text: string | undefined): unknown {
  if (text === undefined || nestsDeeper(text, MAX_JSON_DEPTH)) return undefined;
  try {
    // ComfyUI writes NaN/Infinity in some widget values; JSON.parse rejects them.
    const standard = text.includes('NaN') || text.includes('Infinity') ? text.replace(/\bNaN\b|-?\bInfinity\b/g, 'null') : text;
    return JSON.parse(standard) as unknown;
  } catch {
    return undefined;
  }
}

/** ComfyUI / InvokeAI / k-diffusion sampler names → the engine's. */
const TOOL_SAMPLERS: Record<string, string> = {
  euler: 'euler',
  euler_ancestral: 'euler-ancestral',
  euler_a: 'euler-ancestral',
  k_euler: 'euler',
  k_euler_a: 'euler-ancestral',
  heun: 'heun',
  k_heun: 'heun',
  lms: 'lms',
  k_lms: 'lms',
  lms_k: 'lms',
  dpmpp_2m: 'dpmpp-2m',
  dpmpp_2m_k: 'dpmpp-2m',
  k_dpmpp_2m: 'dpmpp-2m',
  ddim: 'ddim',
  ddpm: 'ddpm',
  uni_pc: 'unipc',
  uni_pc_bh2: 'unipc',
  unipc: 'unipc',
  unipc_k: 'unipc',
  pndm: 'pndm',
  plms: 'pndm',
  lcm: 'lcm',
};

export function samplerFromTool(name: string | undefined): string | undefined {
  if (!name) return undefined;
  return TOOL_SAMPLERS[name.trim().toLowerCase()] ?? schedulerFromA1111(name);
}

function clean(p: ImportedParameters): ImportedParameters {
  for (const k of Object.keys(p) as (keyof ImportedParameters)[]) if (p[k] === undefined) delete p[k];
  return p;
}

/* ---- AUTOMATIC1111 (and ours) ------------------------------------------------------------------ */

export function fromInfotext(text: string, source: ImportedParameters['source'] = 'a1111'): ImportedParameters {
  const p = parseInfotext(text);
  return clean({
    source,
    prompt: p.prompt,
    negativePrompt: p.negativePrompt,
    seed: p.seed !== undefined && /^\d+$/.test(p.seed) ? p.seed : undefined,
    steps: p.steps,
    cfgScale: p.cfgScale,
    sampler: p.sampler,
    samplerName: p.samplerName,
    width: p.width,
    height: p.height,
    model: p.model,
    strength: p.denoisingStrength,
  });
}

/** Our JSON request chunk (written by the engine), completed by the infotext when present. */
export function fromLatentStudio(request: Json, infotext?: string): ImportedParameters {
  const base = infotext !== undefined ? fromInfotext(infotext, 'latent-studio') : { source: 'latent-studio' as const, prompt: '', negativePrompt: '' };
  const model = str(request['model']);
  return clean({
    ...base,
    source: 'latent-studio',
    prompt: str(request['prompt']) ?? base.prompt,
    negativePrompt: str(request['negativePrompt']) ?? base.negativePrompt,
    seed: seedOf(request['seed']) ?? base.seed,
    steps: num(request['steps']) ?? base.steps,
    cfgScale: num(request['cfgScale']) ?? base.cfgScale,
    sampler: str(request['sampler']) ?? base.sampler,
    samplerName: base.samplerName,
    width: num(request['width']) ?? base.width,
    height: num(request['height']) ?? base.height,
    model: base.model ?? (model ? model.split(/[\\/]/).filter(Boolean).pop() : undefined),
    strength: request['initImage'] !== undefined ? (num(request['strength']) ?? base.strength) : base.strength,
  });
}

/* ---- ComfyUI ----------------------------------------------------------------------------------- */

interface ComfyNode {
  class_type: string;
  inputs: Json;
}

const SAMPLER_CLASSES = /^(KSampler|KSamplerAdvanced|SamplerCustom|SamplerCustomAdvanced|KSampler \(Efficient\)|KSamplerAdvanced \(Efficient\))$/;
const TEXT_KEYS = ['text', 'text_g', 'string', 'value', 'prompt', 'text_l'];

/** Follows an API-graph link `[nodeId, slot]`. */
function linked(graph: Record<string, ComfyNode>, v: unknown): ComfyNode | undefined {
  if (Array.isArray(v) && v.length === 2 && (typeof v[0] === 'string' || typeof v[0] === 'number')) return graph[String(v[0])];
  return undefined;
}

/**
 * The prompt text behind a conditioning/text input: CLIPTextEncode (+ SDXL variants), through combines and primitives.
 * `searched` holds the nodes already searched without result: a graph whose nodes link to each other many times
 * (a hostile file) is searched once per node, not once per path (which grows exponentially with the depth).
 */
function textFrom(graph: Record<string, ComfyNode>, v: unknown, depth = 0, searched = new Set<ComfyNode>()): string | undefined {
  if (typeof v === 'string') return v;
  if (depth > 16) return undefined;
  const node = linked(graph, v);
  if (!node || !isObj(node.inputs) || searched.has(node)) return undefined;
  searched.add(node);
  for (const k of TEXT_KEYS) {
    const t = textFrom(graph, node.inputs[k], depth + 1, searched);
    if (t !== undefined) return t;
  }
  // Conditioning passes through (ConditioningCombine, ControlNetApply, …): follow the first one that yields text.
  for (const [k, inner] of Object.entries(node.inputs)) {
    if (/conditioning|positive|negative|clip/i.test(k) || Array.isArray(inner)) {
      const t = textFrom(graph, inner, depth + 1, searched);
      if (t !== undefined) return t;
    }
  }
  return undefined;
}

function valueFrom(graph: Record<string, ComfyNode>, v: unknown, depth = 0): unknown {
  const node = linked(graph, v);
  if (!node) return v;
  if (depth > 8 || !isObj(node.inputs)) return undefined;
  for (const k of ['value', 'seed', 'noise_seed', 'int', 'number']) if (k in node.inputs) return valueFrom(graph, node.inputs[k], depth + 1);
  return undefined;
}

function modelFrom(graph: Record<string, ComfyNode>, v: unknown, depth = 0): string | undefined {
  const node = linked(graph, v);
  if (!node || depth > 16 || !isObj(node.inputs)) return undefined;
  const name = str(node.inputs['ckpt_name']) ?? str(node.inputs['unet_name']) ?? str(node.inputs['model_name']);
  if (name) return name.replace(/\.(safetensors|ckpt|pt|bin|onnx)$/i, '');
  return modelFrom(graph, node.inputs['model'], depth + 1);
}

/** From ComfyUI's `prompt` chunk (the API-format graph the server ran). */
export function fromComfyPrompt(graph: Json): ImportedParameters | undefined {
  const nodes = graph as Record<string, ComfyNode>;
  const samplers = Object.entries(nodes).filter(([, n]) => isObj(n) && typeof n.class_type === 'string' && SAMPLER_CLASSES.test(n.class_type) && isObj(n.inputs));
  if (samplers.length === 0) return undefined;
  // The first sampler in id order is usually the base pass (a second one is a hires/refiner pass).
  samplers.sort(([a], [b]) => Number(a) - Number(b) || a.localeCompare(b));
  const s = samplers[0]![1].inputs;
  let positive = textFrom(nodes, s['positive']);
  let negative = textFrom(nodes, s['negative']);
  if (positive === undefined && s['guider'] !== undefined) {
    const guider = linked(nodes, s['guider']);
    if (guider) {
      positive = textFrom(nodes, guider.inputs['positive'] ?? guider.inputs['conditioning']);
      negative = textFrom(nodes, guider.inputs['negative']);
    }
  }
  const latent = linked(nodes, s['latent_image']);
  const samplerName = str(valueFrom(nodes, s['sampler_name'])) ?? str(linked(nodes, s['sampler'])?.inputs['sampler_name']);
  const denoise = num(valueFrom(nodes, s['denoise']));
  return clean({
    source: 'comfyui',
    prompt: positive ?? '',
    negativePrompt: negative ?? '',
    seed: seedOf(valueFrom(nodes, s['seed'] ?? s['noise_seed'])),
    steps: num(valueFrom(nodes, s['steps'])),
    cfgScale: num(valueFrom(nodes, s['cfg'])),
    sampler: samplerFromTool(samplerName),
    samplerName,
    width: latent ? num(valueFrom(nodes, latent.inputs['width'])) : undefined,
    height: latent ? num(valueFrom(nodes, latent.inputs['height'])) : undefined,
    model: modelFrom(nodes, s['model']),
    strength: denoise !== undefined && denoise < 1 ? denoise : undefined,
  });
}

interface UiNode {
  id: number | string;
  type: string;
  widgets_values?: unknown[] | Json;
  inputs?: Array<{ name: string; link: number | null }>;
}

/** From ComfyUI's `workflow` chunk (the UI graph), when there is no `prompt` chunk. */
export function fromComfyWorkflow(workflow: Json): ImportedParameters | undefined {
  const nodes = Array.isArray(workflow['nodes']) ? (workflow['nodes'] as UiNode[]).filter(isObj) : [];
  const links = Array.isArray(workflow['links']) ? (workflow['links'] as unknown[]) : [];
  const byId = new Map(nodes.map((n) => [String(n.id), n]));
  // link id → origin node id (the first link of an id wins, as a search from the start would find it)
  const origins = new Map<unknown, unknown>();
  for (const l of links) {
    const id = Array.isArray(l) ? l[0] : isObj(l) ? l['id'] : undefined;
    const from = Array.isArray(l) ? l[1] : isObj(l) ? l['origin_id'] : undefined;
    if (id !== undefined && !origins.has(id)) origins.set(id, from);
  }
  const source = (link: number | null | undefined): UiNode | undefined => {
    if (link === null || link === undefined) return undefined;
    const from = origins.get(link);
    return from === undefined ? undefined : byId.get(String(from));
  };
  const widgets = (n: UiNode | undefined): unknown[] => (n && Array.isArray(n.widgets_values) ? n.widgets_values : []);
  // As textFrom: each node is searched once (a hostile graph would otherwise take exponential time).
  const textOf = (n: UiNode | undefined, depth = 0, searched = new Set<UiNode>()): string | undefined => {
    if (!n || depth > 16 || searched.has(n)) return undefined;
    searched.add(n);
    const w = widgets(n);
    if (typeof n.type === 'string' && /CLIPTextEncode|Prompt|String|Text/i.test(n.type) && typeof w[0] === 'string') return w[0];
    for (const input of Array.isArray(n.inputs) ? n.inputs : []) {
      const t = textOf(source(isObj(input) ? input.link : undefined), depth + 1, searched);
      if (t !== undefined) return t;
    }
    return undefined;
  };
  const sampler = nodes.find((n) => SAMPLER_CLASSES.test(n.type));
  if (!sampler) return undefined;
  const input = (name: string): UiNode | undefined => source(sampler.inputs?.find((i) => i.name === name)?.link);
  const w = widgets(sampler);
  // KSampler: [seed, control_after_generate, steps, cfg, sampler_name, scheduler, denoise]
  // KSamplerAdvanced: [add_noise, noise_seed, control, steps, cfg, sampler_name, scheduler, start, end, return_noise]
  const adv = sampler.type.startsWith('KSamplerAdvanced');
  const at = (i: number): unknown => w[adv ? i + 1 : i];
  const samplerName = str(at(4));
  const latent = input('latent_image');
  const lw = widgets(latent);
  let model: string | undefined;
  for (let n = input('model'), d = 0; n && d < 16; d++) {
    if (/Checkpoint|UNETLoader/i.test(n.type) && typeof widgets(n)[0] === 'string') {
      model = (widgets(n)[0] as string).replace(/\.(safetensors|ckpt|pt|bin|onnx)$/i, '');
      break;
    }
    n = source(n.inputs?.find((i) => i.name === 'model')?.link);
  }
  const denoise = adv ? undefined : num(at(6));
  return clean({
    source: 'comfyui',
    prompt: textOf(input('positive')) ?? '',
    negativePrompt: textOf(input('negative')) ?? '',
    seed: seedOf(at(0)),
    steps: num(at(2)),
    cfgScale: num(at(3)),
    sampler: samplerFromTool(samplerName),
    samplerName,
    width: latent && /EmptyLatent/i.test(latent.type) ? num(lw[0]) : undefined,
    height: latent && /EmptyLatent/i.test(latent.type) ? num(lw[1]) : undefined,
    model,
    strength: denoise !== undefined && denoise < 1 ? denoise : undefined,
  });
}

/* ---- InvokeAI ---------------------------------------------------------------------------------- */

export function fromInvokeAi(meta: Json): ImportedParameters {
  const model = meta['model'];
  const modelName = isObj(model) ? (str(model['name']) ?? str(model['model_name'])) : str(model);
  const samplerName = str(meta['scheduler']);
  const strength = num(meta['strength']);
  return clean({
    source: 'invokeai',
    prompt: str(meta['positive_prompt']) ?? '',
    negativePrompt: str(meta['negative_prompt']) ?? '',
    seed: seedOf(meta['seed']),
    steps: num(meta['steps']),
    cfgScale: num(meta['cfg_scale']),
    sampler: samplerFromTool(samplerName),
    samplerName,
    width: num(meta['width']),
    height: num(meta['height']),
    model: modelName,
    strength: str(meta['generation_mode'])?.includes('img2img') || str(meta['generation_mode'])?.includes('inpaint') ? strength : undefined,
  });
}

/**
 * "positive [negative]", InvokeAI 2's negative syntax: the text before the first '[' and between it and a ']' that
 * ends the text. The same split as /^(.*?)\s*\[(.*)\]\s*$/s, without its quadratic backtracking on many '['.
 */
function splitLegacyNegative(full: string): { prompt: string; negative: string } | undefined {
  const body = full.trimEnd();
  const open = full.indexOf('[');
  if (!body.endsWith(']') || open === -1 || open >= body.length - 1) return undefined;
  return { prompt: full.slice(0, open).trimEnd(), negative: body.slice(open + 1, -1) };
}

/** InvokeAI 2.x `sd-metadata`: { model_weights, image: { prompt: [{prompt, weight}] | string, seed, steps, cfg_scale, sampler, width, height } }. */
export function fromInvokeAiLegacy(meta: Json): ImportedParameters | undefined {
  const image = meta['image'];
  if (!isObj(image)) return undefined;
  const rawPrompt = image['prompt'];
  const full = Array.isArray(rawPrompt) ? (rawPrompt.map((p) => (isObj(p) ? str(p['prompt']) : undefined)).find(Boolean) ?? '') : (str(rawPrompt) ?? '');
  const m = splitLegacyNegative(full);
  const samplerName = str(image['sampler']);
  return clean({
    source: 'invokeai',
    prompt: m ? m.prompt : full,
    negativePrompt: m ? m.negative : '',
    seed: seedOf(image['seed']),
    steps: num(image['steps']),
    cfgScale: num(image['cfg_scale']),
    sampler: samplerFromTool(samplerName),
    samplerName,
    width: num(image['width']),
    height: num(image['height']),
    model: str(meta['model_weights']),
  });
}

/* ---- any PNG ------------------------------------------------------------------------------------ */

/** Parameters from a PNG's text chunks (keyword → text), trying ours, then InvokeAI, ComfyUI and A1111. */
export function parametersFromText(text: Record<string, string>): ImportedParameters {
  const ours = parseJson(text['latent-studio']);
  if (isObj(ours)) return fromLatentStudio(ours, text['parameters']);
  const invoke = parseJson(text['invokeai_metadata']);
  if (isObj(invoke)) return fromInvokeAi(invoke);
  const comfy = parseJson(text['prompt']);
  if (isObj(comfy)) {
    const p = fromComfyPrompt(comfy);
    if (p) return p;
  }
  const workflow = parseJson(text['workflow']);
  if (isObj(workflow)) {
    const p = fromComfyWorkflow(workflow);
    if (p) return p;
  }
  const legacy = parseJson(text['sd-metadata']);
  if (isObj(legacy)) {
    const p = fromInvokeAiLegacy(legacy);
    if (p) return p;
  }
  const params = text['parameters'] ?? text['Parameters'];
  if (params !== undefined) return fromInfotext(params, 'a1111');
  // Some tools write the prompt alone under "Description"/"Comment".
  const desc = text['Description'] ?? text['Comment'];
  if (desc !== undefined && !parseJson(desc)) return { source: 'unknown', prompt: desc, negativePrompt: '' };
  return { source: 'unknown', prompt: '', negativePrompt: '' };
}

/** Parameters from PNG bytes. Throws PngError (code 'bad-image') for bytes that are not a PNG. */
export function readImageParameters(png: Uint8Array): ImportedParameters {
  const params = parametersFromText(pngTextChunks(png));
  const size = pngSize(png);
  if (size) {
    params.width ??= size.width;
    params.height ??= size.height;
  }
  return params;
}

/** Width and height from the IHDR chunk (null when the bytes do not start like a PNG). */
export function pngSize(png: Uint8Array): { width: number; height: number } | null {
  if (png.length < 24 || png[0] !== 0x89 || png[1] !== 0x50 || png[12] !== 0x49 || png[13] !== 0x48 || png[14] !== 0x44 || png[15] !== 0x52) return null;
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

/** A complete PNG: signature, IHDR first, IEND last with every chunk length in bounds (no pixel decoding). */
export function isCompletePng(png: Uint8Array): boolean {
  if (!pngSize(png)) return false;
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8;
  while (pos + 12 <= png.length) {
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(png[pos + 4]!, png[pos + 5]!, png[pos + 6]!, png[pos + 7]!);
    const next = pos + 12 + len;
    if (next > png.length) return false;
    if (type === 'IEND') return next === png.length;
    pos = next;
  }
  return false;
}
