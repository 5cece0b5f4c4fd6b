// Output file names and crash-safe writes of the images.
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../durable/atomic-file.js';
import { usageError } from './errors.js';

/** The default of `--out`: in the current directory, one file per seed. */
export const DEFAULT_OUT_PATTERN = 'latent-{seed}.png';

export interface OutputNameFields {
  /** 1-based index of the image in the run. */
  index: number;
  /** Number of images in the run (batchCount). */
  count: number;
  seed: string;
}

/**
 * The path of one output image.
 *
 * `{seed}` in the pattern becomes the image's seed and `{n}` its 1-based index. When a run makes
 * more than one image and the pattern has neither, `-{n}` goes before the extension:
 * `--out cat.png --batch 3` → `cat-1.png`, `cat-2.png`, `cat-3.png`. A name without an
 * extension gets `.png`.
 */
export function outputPath(pattern: string, fields: OutputNameFields): string {
  let name = pattern;
  if (path.extname(name) === '') name += '.png';
  const hasToken = name.includes('{seed}') || name.includes('{n}');
  if (fields.count > 1 && !hasToken) {
    const ext = path.extname(name);
    name = `${name.slice(0, name.length - ext.length)}-{n}${ext}`;
  }
  return name.replaceAll('{seed}', fields.seed).replaceAll('{n}', String(fields.index));
}

/**
 * Why `target` cannot be an output file, or undefined when it can (it is a regular file or does not exist).
 * A folder or a device (/dev/full, /dev/stdout) is never replaced by a rename nor written next to as `<path>.png`.
 */
export async function outputTargetProblem(target: string): Promise<string | undefined> {
  let info;
  try {
    info = await stat(target);
  } catch {
    return undefined; // missing (fine) or unreadable: the write itself reports it
  }
  if (info.isFile()) return undefined;
  return info.isDirectory() ? 'it is a folder' : 'it is a device, pipe or socket, not a file';
}

/** Refuses (usage error) an `--out` that names an existing folder or device, before any work is done. */
export async function checkOutPattern(pattern: string): Promise<void> {
  const problem = await outputTargetProblem(pattern);
  if (problem === undefined) return;
  const hint = problem === 'it is a folder' ? `; to write into it, give a file name such as '${path.join(pattern, DEFAULT_OUT_PATTERN)}'` : '';
  throw usageError(`--out '${pattern}': ${problem}${hint}`);
}

/** Temporary files not yet renamed into place, removed when a run is cancelled. */
const pendingTemps = new Set<string>();

/** Removes the temp files of writes in progress (on SIGINT/SIGTERM); synchronous-safe to call twice. */
export async function removePendingTempFiles(): Promise<void> {
  const temps = [...pendingTemps];
  pendingTemps.clear();
  await Promise.all(temps.map((temp) => rm(temp, { force: true })));
}

/**
 * Writes an output image atomically (temp file, fsync, rename; the folder is made first). A reader never sees
 * a half-written file under `file`, and a killed run leaves at most a hidden temp file (removed on Ctrl+C).
 */
export async function writeOutputFile(file: string, data: Uint8Array): Promise<void> {
  const problem = await outputTargetProblem(file);
  if (problem !== undefined) throw new Error(`'${file}': ${problem}`);
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFileAtomic(file, data, { pendingTemps });
}
