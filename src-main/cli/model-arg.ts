// `--model`: a model folder, or the name of a model in the models folder (`latent-studio models list`).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageError } from './errors.js';

/**
 * The model used when `--model` is not given: the demo model the project trains itself and ships in
 * resources/models (src-main/cli or dist/cli → two folders up is the package root).
 */
export const DEFAULT_MODEL_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'resources',
  'models',
  'latent-studio-demo',
);

/** `--model` as given, or the shipped demo model when it was left out. */
export async function modelDirOrDefault(value: string | undefined, flag = '--model'): Promise<string> {
  if (value) return resolveModelDir(value, flag);
  if (await isDirectory(DEFAULT_MODEL_DIR)) return DEFAULT_MODEL_DIR;
  throw usageError(`${flag} DIR is required: the default demo model (${DEFAULT_MODEL_DIR}) is missing`);
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The folder `--model` names: the path itself when it is a folder; else, for a bare name (no path
 * separator), that model in the models folder (--models-dir / LATENT_STUDIO_MODELS_DIR / settings /
 * per-user default, as `models list` resolves it). Anything else is a usage error naming the flag.
 */
export async function resolveModelDir(value: string, flag = '--model'): Promise<string> {
  if (await isDirectory(value)) return path.resolve(value);
  const bare = !value.includes('/') && !value.includes('\\') && value !== '.' && value !== '..';
  if (bare) {
    try {
      const { resolveModelsDir } = await import('../host/paths.js');
      const { dir } = await resolveModelsDir();
      const candidate = path.join(dir, value);
      if (await isDirectory(candidate)) return candidate;
      throw usageError(`${flag} '${value}': no such directory, and no model named '${value}' in the models folder ${dir}`);
    } catch (error) {
      if ((error as { name?: string }).name === 'CliError') throw error;
      // No models folder support: report the path.
    }
  }
  try {
    await stat(value);
  } catch {
    throw usageError(`${flag} '${value}': no such directory`);
  }
  throw usageError(`${flag} '${value}': not a directory`);
}
