// Model folders: the bundled ones (resources/models), the user's folder of models (settings.userModelsDir) and
// single extra folders (settings.modelDirs, or any absolute folder passed as `model`).
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { inspectModel } from '../engine/model/inspect.js';
import { schedulerNameForDiffusersClass } from '../engine/schedulers/index.js';
import type { ModelEntry, ModelSummary, ModelSource, Settings, StudioError } from '../shared/contract.js';

export class HostError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly details?: string[];
  constructor(code: string, message: string, extra: { file?: string; details?: string[] } = {}) {
    super(message);
    this.name = 'HostError';
    this.code = code;
    if (extra.file !== undefined) this.file = extra.file;
    if (extra.details !== undefined) this.details = extra.details;
  }
  toStudioError(): StudioError {
    return {
      code: this.code,
      message: this.message,
      ...(this.file !== undefined ? { file: this.file } : {}),
      ...(this.details !== undefined ? { details: this.details } : {}),
    };
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function describeFolder(dir: string, id: string, source: ModelSource): Promise<ModelEntry> {
  const entry: ModelEntry = { id, name: path.basename(dir), dir, source, hasVaeEncoder: await isFile(path.join(dir, 'vae_encoder', 'model.onnx')) };
  try {
    const index = JSON.parse(await readFile(path.join(dir, 'model_index.json'), 'utf8')) as { _class_name?: unknown };
    if (typeof index._class_name === 'string') entry.pipeline = index._class_name;
  } catch {
    if (!(await isFile(path.join(dir, 'unet', 'model.onnx')))) entry.problem = 'no model_index.json and no unet/model.onnx: not a model folder';
  }
  if (!entry.problem) {
    // inspectModel only parses the .onnx headers (milliseconds even for a multi-GB UNet).
    try {
      const r = await inspectModel(dir);
      if (!r.supported) entry.problem = r.problems.join('; ') || 'not supported';
      if (r.info?.nativeSize !== undefined) entry.defaultSize = { width: r.info.nativeSize, height: r.info.nativeSize };
    } catch (error) {
      entry.problem = error instanceof Error ? error.message : String(error);
    }
  }
  return entry;
}

/** A folder is a model when it has model_index.json or unet/. */
async function looksLikeModel(dir: string): Promise<boolean> {
  return (await isFile(path.join(dir, 'model_index.json'))) || (await isDir(path.join(dir, 'unet')));
}

async function scanCollection(root: string, source: 'bundled' | 'user'): Promise<ModelEntry[]> {
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() || d.isSymbolicLink()).map((d) => d.name);
  } catch {
    return [];
  }
  const out: ModelEntry[] = [];
  for (const name of names.sort((a, b) => a.localeCompare(b))) {
    const dir = path.join(root, name);
    if (name.startsWith('.') || !(await looksLikeModel(dir))) continue;
    out.push(await describeFolder(dir, `${source}:${name}`, source));
  }
  return out;
}

export interface ModelRoots {
  bundledModelsDir: string;
  settings: Pick<Settings, 'userModelsDir' | 'modelDirs'>;
}

export async function listModels(roots: ModelRoots): Promise<ModelEntry[]> {
  const out = await scanCollection(roots.bundledModelsDir, 'bundled');
  if (roots.settings.userModelsDir) out.push(...(await scanCollection(roots.settings.userModelsDir, 'user')));
  for (const dir of roots.settings.modelDirs) {
    const abs = path.resolve(dir);
    if (await isDir(abs)) out.push(await describeFolder(abs, abs, 'path'));
    else out.push({ id: abs, name: path.basename(abs), dir: abs, source: 'path', hasVaeEncoder: false, problem: 'folder not found' });
  }
  return out;
}

/** A model id ('bundled:x', 'user:x') or an absolute folder → the folder. Throws HostError('model-not-found'). */
export async function resolveModelDir(ref: string, roots: ModelRoots): Promise<{ id: string; dir: string }> {
  const m = /^(bundled|user):(.+)$/.exec(ref);
  if (m) {
    const [, source, name] = m as unknown as [string, 'bundled' | 'user', string];
    const root = source === 'bundled' ? roots.bundledModelsDir : roots.settings.userModelsDir;
    if (!root) throw new HostError('model-not-found', `Model "${ref}" not found: no user models folder is set.`);
    if (name.includes('/') || name.includes('\\') || name === '..' || name === '.') throw new HostError('model-not-found', `Model "${ref}": bad model name.`);
    const dir = path.join(root, name);
    if (!(await isDir(dir))) throw new HostError('model-not-found', `Model "${ref}" not found (no folder ${dir}).`, { file: dir });
    return { id: ref, dir };
  }
  if (!path.isAbsolute(ref)) {
    throw new HostError('model-not-found', `Model "${ref}" not found: use an id from listModels (e.g. "bundled:${ref}") or an absolute model folder.`);
  }
  const dir = path.resolve(ref);
  if (!(await isDir(dir))) throw new HostError('model-not-found', `Model folder ${dir} does not exist.`, { file: dir });
  return { id: dir, dir };
}

type EngineInspection = Awaited<ReturnType<typeof inspectModel>>;

function toJsonSafe(v: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))) as Record<string, unknown>;
}

export function summarizeInspection(id: string, r: EngineInspection): ModelSummary {
  const info = r.info;
  const out: ModelSummary = {
    id,
    dir: r.dir,
    name: r.name,
    isInpainting: info?.isInpainting ?? false,
    hasVaeEncoder: r.components.vae_encoder?.present ?? false,
    details: toJsonSafe({ variant: r.variant, pipelineClassName: r.pipelineClassName, dtypes: r.dtypes, warnings: r.warnings, totalBytes: r.totalBytes }),
  };
  if (info) {
    out.family = info.family;
    out.predictionType = info.predictionType;
    out.isLcm = info.timestepCondDim !== undefined;
    out.dtype = info.dtype;
    const sampler = schedulerNameForDiffusersClass(info.schedulerClassName);
    if (sampler) out.defaultSampler = sampler;
  }
  if (info?.nativeSize !== undefined) out.defaultSize = { width: info.nativeSize, height: info.nativeSize };
  return out;
}

/** Inspects a model folder (no sessions). Throws HostError('bad-model') when the engine cannot use it. */
export async function inspectModelDir(id: string, dir: string): Promise<ModelSummary> {
  let r: EngineInspection;
  try {
    r = await inspectModel(dir);
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown; file?: unknown };
    throw new HostError(
      e.code === 'missing-dir' ? 'model-not-found' : 'bad-model',
      typeof e.message === 'string' ? e.message : String(error),
      { file: typeof e.file === 'string' ? path.resolve(dir, e.file) : dir },
    );
  }
  if (!r.supported) {
    const first = r.issues[0];
    throw new HostError('bad-model', `Model ${dir} cannot be used: ${r.problems.join('; ') || 'unsupported model'}`, {
      file: first?.file !== undefined ? path.join(dir, first.file) : dir,
      details: r.problems,
    });
  }
  return summarizeInspection(id, r);
}
