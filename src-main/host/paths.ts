// Default locations when not running under Electron (app.getPath is Electron's).
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultUserModelsDir } from '../models-manager/paths.js';

/** <repo>/resources/models, found from this file (src-main/host/ or out/…/). */
export function defaultBundledModelsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'resources', 'models');
}

/** The per-user settings file of the browser host: $XDG_CONFIG_HOME/latent-studio/settings.json (or the OS's equivalent). */
export function defaultSettingsFile(): string {
  const base =
    process.platform === 'win32'
      ? (process.env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'))
      : process.platform === 'darwin'
        ? path.join(os.homedir(), 'Library', 'Application Support')
        : (process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'));
  return path.join(base, 'latent-studio', 'settings.json');
}

/**
 * The per-user gallery folder (settings.outputDir overrides it): $LATENT_STUDIO_OUTPUT_DIR, else
 * $XDG_PICTURES_DIR/Latent Studio, else ~/Pictures/Latent Studio.
 */
export function defaultOutputDir(): string {
  if (process.env['LATENT_STUDIO_OUTPUT_DIR']) return path.resolve(process.env['LATENT_STUDIO_OUTPUT_DIR']);
  const pictures = process.env['XDG_PICTURES_DIR'] || path.join(os.homedir(), 'Pictures');
  return path.join(pictures, 'Latent Studio');
}

export interface ModelsDirChoice {
  dir: string;
  /** Where the choice came from (for messages). */
  from: 'option' | 'env' | 'settings' | 'default';
}

/**
 * Where the models folder is: --models-dir, else env LATENT_STUDIO_MODELS_DIR, else the settings'
 * userModelsDir (the browser host's settings file), else the per-user default.
 */
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
