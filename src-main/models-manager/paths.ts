// Where the models folder is: --models-dir, else env LATENT_STUDIO_MODELS_DIR, else the settings'
// userModelsDir (the browser host's settings file), else a per-user default.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultSettingsFile } from '../host/paths.js';

/** $XDG_DATA_HOME/latent-studio/models (~/.local/share/...), ~/Library/Application Support/latent-studio/models, %LOCALAPPDATA%\latent-studio\models. */
export function defaultUserModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    process.platform === 'win32'
      ? (env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'))
      : process.platform === 'darwin'
        ? path.join(os.homedir(), 'Library', 'Application Support')
        : (env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'));
  return path.join(base, 'latent-studio', 'models');
}

export interface ModelsDirChoice {
  dir: string;
  /** Where the choice came from (for messages). */
  from: 'option' | 'env' | 'settings' | 'default';
}

export async function resolveModelsDir(options: { modelsDir?: string; env?: NodeJS.ProcessEnv; settingsFile?: string } = {}): Promise<ModelsDirChoice> {
  const env = options.env ?? process.env;
  if (options.modelsDir) return { dir: path.resolve(options.modelsDir), from: 'option' };
  const fromEnv = env.LATENT_STUDIO_MODELS_DIR;
  if (fromEnv) return { dir: path.resolve(fromEnv), from: 'env' };
  try {
    const raw = JSON.parse(await readFile(options.settingsFile ?? defaultSettingsFile(), 'utf8')) as { userModelsDir?: unknown };
    if (typeof raw.userModelsDir === 'string' && path.isAbsolute(raw.userModelsDir)) return { dir: raw.userModelsDir, from: 'settings' };
  } catch {
    // no settings file (or unreadable): the default
  }
  return { dir: defaultUserModelsDir(env), from: 'default' };
}
