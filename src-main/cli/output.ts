// Output file names and crash-safe writes of the images.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../durable/atomic-file.js';

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
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFileAtomic(file, data, { pendingTemps });
}
