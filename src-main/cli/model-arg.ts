// `--model`: a model folder, or the name of a model in the models folder (`latent-studio models list`).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { usageError } from './errors.js';

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
      const { resolveModelsDir } = await import('../models-manager/index.js');
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
