// The per-user default models folder (host/paths.ts resolveModelsDir picks between it, options and settings).
import os from 'node:os';
import path from 'node:path';

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
