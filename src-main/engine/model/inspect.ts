// inspectModel: what a model folder holds, without creating sessions (the .onnx headers are parsed directly,
// so even a multi-GB UNet is inspected in milliseconds). Never throws for an unusable model, only for a
// folder that does not exist.

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { IoMeta } from '../onnx/runtime.js';
import { analyze, COMPONENTS, OPTIONAL_COMPONENTS, type ComponentName, type CoreComponentName, type FolderFacts, type GraphIo, type Json, type ModelFacts } from './analyze.js';
import { ModelError, type ModelIssue } from './errors.js';
import { checkExternalData, OnnxParseError, readOnnxGraph } from './onnx-graph.js';

export interface ComponentInspection {
  /** Relative to the model folder, e.g. 'unet/model.onnx'. */
  file: string;
  present: boolean;
  /** Size of model.onnx itself. */
  bytes: number;
  /** Size of the external weight files it refers to (model.onnx_data, weights.pb, ...). */
  externalDataBytes: number;
  externalDataFiles: string[];
  irVersion: number | null;
  opset: number | null;
  producer: string | null;
  inputs: IoMeta[];
  outputs: IoMeta[];
  /** The folder's config.json, or null when absent/unreadable. */
  config: Json | null;
}

export interface ModelInspection {
  dir: string;
  name: string;
  /** True when openModel can run it. */
  supported: boolean;
  /** e.g. 'sd1', 'sd1-fp16', 'sd2-v', 'sd1-inpainting', 'sd1-lcm', 'sd2-unet-batch-1'; null when not analysable. */
  variant: string | null;
  /** model_index.json's _class_name ('' when absent). */
  pipelineClassName: string;
  /** What the engine would use (null when the model is unsupported). */
  info: ModelFacts | null;
  /** The float type of each component's main input (float32/float16), null when absent. */
  dtypes: ComponentRecord<string | null>;
  components: ComponentRecord<ComponentInspection>;
  /** Human-readable reasons the model cannot be used (empty when supported). */
  problems: string[];
  /** The same with codes and files. */
  issues: ModelIssue[];
  warnings: string[];
  /** All files of the folder that the engine reads, in bytes. */
  totalBytes: number;
}

/** The four components every model has, plus text_encoder_2 where the folder has one (SDXL). */
export type ComponentRecord<T> = Record<CoreComponentName, T> & Partial<Record<ComponentName, T>>;

const REQUIRED: readonly ComponentName[] = ['text_encoder', 'unet', 'vae_decoder'];
const FOREIGN = ['text_encoder_2', 'text_encoder_3', 'tokenizer_2', 'tokenizer_3', 'transformer', 'prior', 'decoder'];

async function probe(p: string): Promise<{ file: boolean; dir: boolean; size: number }> {
  try {
    const s = await stat(p);
    return { file: s.isFile(), dir: s.isDirectory(), size: s.size };
  } catch {
    return { file: false, dir: false, size: 0 };
  }
}

/** Reads a JSON object file; null when absent; records an issue when unreadable or not an object. */
export async function readJsonObject(dir: string, rel: string, issues: ModelIssue[]): Promise<Json | null> {
  let text: string;
  try {
    text = await readFile(path.join(dir, rel), 'utf8');
  } catch {
    return null;
  }
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      issues.push({ code: 'invalid-config', file: rel, message: `${rel} is not a JSON object` });
      return null;
    }
    return v as Json;
  } catch (err) {
    issues.push({ code: 'invalid-config', file: rel, message: `${rel} is not valid JSON (${(err as Error).message})` });
    return null;
  }
}

function mainDtype(io: GraphIo | null | undefined): string | null {
  if (!io) return null;
  const f = [...io.inputs, ...io.outputs].find((m) => m.type === 'float16' || m.type === 'float32');
  return f ? f.type : null;
}

/** Gathers configs, graph headers and file facts; used by inspectModel and openModel. */
export async function gatherFolder(dir: string): Promise<{ facts: FolderFacts; components: ComponentRecord<ComponentInspection>; issues: ModelIssue[]; warnings: string[]; totalBytes: number }> {
  const d = await probe(dir);
  if (!d.dir) {
    throw new ModelError('missing-dir', d.file ? `${dir} is a file, not a model folder` : `model folder ${dir} does not exist`, dir);
  }
  const issues: ModelIssue[] = [];
  const warnings: string[] = [];
  let totalBytes = 0;

  const modelIndex = await readJsonObject(dir, 'model_index.json', issues);
  if (!modelIndex && !issues.some((i) => i.file === 'model_index.json')) warnings.push('model_index.json is missing');
  const schedulerConfig = await readJsonObject(dir, 'scheduler/scheduler_config.json', issues);
  if (!schedulerConfig && !issues.some((i) => i.file === 'scheduler/scheduler_config.json')) {
    issues.push({ code: 'missing-file', file: 'scheduler/scheduler_config.json', message: 'scheduler/scheduler_config.json is missing' });
  }
  for (const f of ['tokenizer/vocab.json', 'tokenizer/merges.txt']) {
    const e = await probe(path.join(dir, f));
    if (!e.file) issues.push({ code: 'missing-file', file: f, message: `${f} is missing` });
    else totalBytes += e.size;
  }

  const configs: FolderFacts['configs'] = {};
  const graphs: FolderFacts['graphs'] = {};
  const components = {} as ComponentRecord<ComponentInspection>;
  for (const c of [...COMPONENTS, ...OPTIONAL_COMPONENTS]) {
    if ((OPTIONAL_COMPONENTS as readonly string[]).includes(c) && !(await probe(path.join(dir, c))).dir) continue;
    const rel = `${c}/model.onnx`;
    const ci: ComponentInspection = {
      file: rel,
      present: false,
      bytes: 0,
      externalDataBytes: 0,
      externalDataFiles: [],
      irVersion: null,
      opset: null,
      producer: null,
      inputs: [],
      outputs: [],
      config: null,
    };
    components[c] = ci;
    const cfgRel = `${c}/config.json`;
    ci.config = await readJsonObject(dir, cfgRel, issues);
    configs[c] = ci.config;
    const e = await probe(path.join(dir, rel));
    if (!e.file) {
      graphs[c] = null;
      if (REQUIRED.includes(c)) issues.push({ code: 'missing-file', file: rel, message: `${rel} is missing` });
      continue;
    }
    ci.present = true;
    ci.bytes = e.size;
    totalBytes += e.size;
    if (!ci.config && !issues.some((i) => i.file === cfgRel)) warnings.push(`${cfgRel} is missing`);
    try {
      const g = await readOnnxGraph(path.join(dir, rel));
      ci.irVersion = g.irVersion;
      ci.opset = g.opset;
      ci.producer = g.producerName ? `${g.producerName} ${g.producerVersion}`.trim() : null;
      ci.inputs = g.inputs;
      ci.outputs = g.outputs;
      ci.externalDataFiles = g.externalData.map((x) => `${c}/${x.location}`);
      const ext = await checkExternalData(path.join(dir, rel), g.externalData);
      ci.externalDataBytes = ext.bytes;
      totalBytes += ext.bytes;
      for (const p of ext.problems) issues.push({ code: 'missing-external-data', file: rel, message: `${rel}: ${p}` });
      if (g.opset === null) {
        issues.push({ code: 'truncated-file', file: rel, message: `${rel} has no opset_import: the file is incomplete (truncated?) or not an ONNX model` });
      }
      graphs[c] = { inputs: g.inputs, outputs: g.outputs };
    } catch (err) {
      graphs[c] = undefined; // present but unreadable: no further checks on it
      if (err instanceof OnnxParseError) {
        issues.push({
          code: err.reason === 'truncated' ? 'truncated-file' : 'invalid-onnx',
          file: rel,
          message:
            err.reason === 'truncated'
              ? `${rel} is truncated or incomplete (${err.message}; ${e.size} bytes): download it again`
              : `${rel} is not a valid ONNX model (${err.message})`,
        });
      } else {
        issues.push({ code: 'invalid-onnx', file: rel, message: `${rel} cannot be read (${(err as Error).message})` });
      }
    }
  }
  const foreignComponents: string[] = [];
  for (const f of FOREIGN) if ((await probe(path.join(dir, f))).dir) foreignComponents.push(f);

  const facts: FolderFacts = {
    name: path.basename(path.resolve(dir)),
    modelIndex,
    schedulerConfig,
    configs,
    graphs,
    foreignComponents,
  };
  return { facts, components, issues, warnings, totalBytes };
}

export async function inspectModel(dir: string): Promise<ModelInspection> {
  const g = await gatherFolder(dir);
  const a = analyze(g.facts);
  const issues = dedupe([...g.issues, ...a.issues]);
  const warnings = [...g.warnings, ...a.warnings];
  const supported = issues.length === 0 && a.facts !== null;
  if (!supported && issues.length === 0) {
    issues.push({ code: 'invalid-onnx', message: 'the model could not be analysed' });
  }
  const dtypes = {} as ComponentRecord<string | null>;
  for (const c of [...COMPONENTS, ...OPTIONAL_COMPONENTS]) if (g.components[c]) dtypes[c] = mainDtype(g.facts.graphs[c]);
  const className = typeof g.facts.modelIndex?.['_class_name'] === 'string' ? (g.facts.modelIndex['_class_name'] as string) : '';
  return {
    dir: path.resolve(dir),
    name: g.facts.name,
    supported,
    variant: a.facts ? a.facts.variant : null,
    pipelineClassName: className,
    info: supported ? a.facts : null,
    dtypes,
    components: g.components,
    problems: issues.map((i) => i.message),
    issues,
    warnings,
    totalBytes: g.totalBytes,
  };
}

function dedupe(issues: ModelIssue[]): ModelIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.code}|${i.file ?? ''}|${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
