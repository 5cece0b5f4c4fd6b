// The models folder: one folder (or link) per model, each in the diffusers/optimum ONNX layout. Nothing is
// ever half-registered: imports and downloads are assembled in a hidden folder of the models folder (same
// filesystem) and renamed into place in one step; removals rename the folder away first, then delete it.
import { randomBytes } from 'node:crypto';
import { cp, lstat, mkdir, readdir, readFile, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathExists } from '../durable/exists.js';
import { inspectModel } from '../engine/model/inspect.js';
import { ModelManagerError } from './errors.js';

/** Hidden folder of the models folder holding downloads in progress (one subfolder per repo@revision). */
export const STAGING_DIR = '.downloads';
/**
 * Written into every model folder the manager installs (downloaded: the hub repository; imported by copy: the
 * source folder). removeModel deletes only folders that hold it, so a models folder pointed at the wrong place
 * (a home folder) never loses anything the manager did not put there.
 */
export const SOURCE_FILE = 'latent-source.json';

export interface InstalledModel {
  name: string;
  /** Absolute path in the models folder (a link for --link imports). */
  dir: string;
  /** The folder a linked model points to. */
  linkTarget?: string;
  supported: boolean;
  /** Why not, when not supported. */
  problems: string[];
  /** e.g. 'sd1', 'sd1-lcm', 'sd2-v' (null when unknown). */
  variant: string | null;
  pipeline: string;
  totalBytes: number;
  /** Hub repository (downloaded models). */
  source?: { repo: string; revision: string; subfolder?: string; commit?: string; downloadedAt?: string };
}

export interface PartialDownload {
  /** Staging folder name under `.downloads/`. */
  id: string;
  dir: string;
  repo?: string;
  revision?: string;
  bytes: number;
}

/** A model name is one folder name: no separators, not hidden, not '.'/'..'. */
export function validateModelName(name: string): string {
  const n = name.trim();
  if (!n || n === '.' || n === '..' || n.startsWith('.') || /[/\\\0:*?"<>|]/.test(n) || n.length > 200) {
    throw new ModelManagerError('invalid', `"${name}" is not a valid model name (one folder name: letters, digits, - _ . and spaces; not starting with a dot).`);
  }
  return n;
}

function tmpName(kind: string, name: string): string {
  return `.${kind}-${name}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await folderBytes(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

export async function describeInstalled(dir: string): Promise<InstalledModel> {
  const name = path.basename(dir);
  const l = await lstat(dir);
  const model: InstalledModel = { name, dir, supported: false, problems: [], variant: null, pipeline: '', totalBytes: 0 };
  if (l.isSymbolicLink()) model.linkTarget = await realpath(dir).catch(() => undefined as unknown as string);
  if (model.linkTarget === undefined) delete model.linkTarget;
  try {
    const r = await inspectModel(dir);
    model.supported = r.supported;
    model.problems = r.problems;
    model.variant = r.variant;
    model.pipeline = r.pipelineClassName;
    model.totalBytes = r.totalBytes;
  } catch (error) {
    model.problems = [error instanceof Error ? error.message : String(error)];
  }
  try {
    const src = JSON.parse(await readFile(path.join(dir, SOURCE_FILE), 'utf8')) as InstalledModel['source'];
    if (src && typeof src.repo === 'string') model.source = src;
  } catch {
    // not downloaded by us
  }
  return model;
}

/** Every model folder (or link to one) in the models folder, sorted by name. Hidden entries are skipped. */
export async function listInstalled(modelsDir: string): Promise<InstalledModel[]> {
  let entries;
  try {
    entries = await readdir(modelsDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ModelManagerError('io', `Cannot read the models folder ${modelsDir}: ${(error as Error).message}`, { file: modelsDir });
  }
  const out: InstalledModel[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.') || !(e.isDirectory() || e.isSymbolicLink())) continue;
    const dir = path.join(modelsDir, e.name);
    if (e.isSymbolicLink() && !(await stat(dir).then((s) => s.isDirectory()).catch(() => false))) {
      out.push({ name: e.name, dir, supported: false, problems: ['broken link: its target folder is gone'], variant: null, pipeline: '', totalBytes: 0 });
      continue;
    }
    out.push(await describeInstalled(dir));
  }
  return out;
}

/** Downloads started and not finished (their .part files wait for a re-run). */
export async function listPartialDownloads(modelsDir: string): Promise<PartialDownload[]> {
  const root = path.join(modelsDir, STAGING_DIR);
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
  const out: PartialDownload[] = [];
  for (const id of names.sort()) {
    const dir = path.join(root, id);
    const p: PartialDownload = { id, dir, bytes: await folderBytes(dir) };
    try {
      const m = JSON.parse(await readFile(path.join(dir, '.manifest.json'), 'utf8')) as { repo?: string; revision?: string };
      if (m.repo) p.repo = m.repo;
      if (m.revision) p.revision = m.revision;
    } catch {
      // no manifest yet
    }
    out.push(p);
  }
  return out;
}

export interface ImportOptions {
  modelsDir: string;
  /** Default: the source folder's name. */
  name?: string;
  /** Link instead of copying (a symlink; a junction on Windows). */
  link?: boolean;
}

/**
 * Imports a model folder: inspected first (must be supported), then copied (or linked) into a hidden temp
 * entry of the models folder and renamed into place.
 */
export async function importModel(source: string, options: ImportOptions): Promise<InstalledModel> {
  const src = path.resolve(source);
  const s = await stat(src).catch(() => null);
  if (!s?.isDirectory()) throw new ModelManagerError('invalid', `${src} is not a folder.`, { file: src });
  const r = await inspectModel(src);
  if (!r.supported) {
    throw new ModelManagerError('unsupported', `${src} is not a model the engine can use: ${r.problems.join('; ') || 'unsupported'}`, { file: src, details: r.problems });
  }
  const name = validateModelName(options.name ?? path.basename(src));
  const modelsDir = path.resolve(options.modelsDir);
  await mkdir(modelsDir, { recursive: true });
  const target = path.join(modelsDir, name);
  if (await pathExists(target)) throw new ModelManagerError('exists', `A model named "${name}" is already in ${modelsDir}; choose another name (--name) or remove it first.`, { file: target });
  const realSrc = await realpath(src);
  const realModels = await realpath(modelsDir);
  if (realSrc === realModels || realModels.startsWith(realSrc + path.sep)) {
    throw new ModelManagerError('invalid', `Cannot import ${src} into itself (${modelsDir}).`, { file: src });
  }
  const tmp = path.join(modelsDir, tmpName('import', name));
  try {
    if (options.link) await symlink(realSrc, tmp, process.platform === 'win32' ? 'junction' : 'dir');
    else {
      await cp(realSrc, tmp, { recursive: true, errorOnExist: true, force: false, preserveTimestamps: true });
      // A copy of a model we downloaded keeps its hub source; any other copy records where it came from.
      if (!(await isInstalledByUs(tmp))) await writeFile(path.join(tmp, SOURCE_FILE), `${JSON.stringify({ importedFrom: realSrc, importedAt: new Date().toISOString() }, null, 2)}\n`);
    }
    if (await pathExists(target)) throw new ModelManagerError('exists', `A model named "${name}" appeared in ${modelsDir} meanwhile.`, { file: target });
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof ModelManagerError) throw error;
    const e = error as NodeJS.ErrnoException;
    throw new ModelManagerError(e.code === 'ENOSPC' ? 'no-space' : 'io', `Importing ${src} failed: ${e.message}`, { file: src, cause: error });
  }
  return describeInstalled(target);
}

/** Whether a model folder holds the SOURCE_FILE the manager writes when it downloads or imports (copies) a model. */
async function isInstalledByUs(dir: string): Promise<boolean> {
  const file = path.join(dir, SOURCE_FILE);
  const l = await lstat(file).catch(() => null);
  if (!l?.isFile() || l.size > 64 * 1024) return false;
  try {
    const src = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown> | null;
    return typeof src === 'object' && src !== null && (typeof src['repo'] === 'string' || typeof src['importedFrom'] === 'string');
  } catch {
    return false;
  }
}

/**
 * Removes a model by name. A linked model loses only its link (its folder is left alone); a folder is deleted only
 * when the manager installed it (it holds SOURCE_FILE).
 */
export async function removeModel(name: string, modelsDir: string): Promise<{ name: string; dir: string; linked: boolean }> {
  const n = validateModelName(name);
  const dir = path.join(path.resolve(modelsDir), n);
  const l = await lstat(dir).catch(() => null);
  if (!l) throw new ModelManagerError('model-not-found', `No model named "${n}" in ${modelsDir}.`, { file: dir });
  if (l.isSymbolicLink()) {
    await rm(dir, { force: true });
    return { name: n, dir, linked: true };
  }
  if (!l.isDirectory()) throw new ModelManagerError('model-not-found', `${dir} is not a model folder.`, { file: dir });
  if (!(await isInstalledByUs(dir))) {
    throw new ModelManagerError(
      'invalid',
      `${dir} was not installed by Latent Studio (it has no ${SOURCE_FILE}); it is left alone. Delete it yourself if it is a model you no longer want.`,
      { file: dir },
    );
  }
  // Out of the listing in one step, then deleted.
  const trash = path.join(path.dirname(dir), tmpName('removing', n));
  await rename(dir, trash);
  await rm(trash, { recursive: true, force: true });
  return { name: n, dir, linked: false };
}
