// Default locations when not running under Electron (app.getPath is Electron's).
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
