// Where the Electron binary is, without require('electron'): that module tries to DOWNLOAD a missing binary.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function findElectron(repoRoot: string): { path: string; reason?: undefined } | { path?: undefined; reason: string } {
  const explicit = process.env['LATENT_STUDIO_ELECTRON'];
  if (explicit) return existsSync(explicit) ? { path: explicit } : { reason: `LATENT_STUDIO_ELECTRON=${explicit} does not exist` };
  const dir = path.join(repoRoot, 'node_modules', 'electron');
  if (!existsSync(path.join(dir, 'package.json'))) return { reason: 'the electron package is not installed' };
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return { reason: 'node_modules/electron/path.txt is missing: the Electron binary was never downloaded (install without network access)' };
  const rel = readFileSync(pathFile, 'utf8').trim();
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  const exe = override ? path.join(override, rel) : path.join(dir, 'dist', rel);
  if (!existsSync(exe)) return { reason: `the Electron binary ${exe} is missing` };
  if (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
    return { reason: 'no display (DISPLAY/WAYLAND_DISPLAY unset): run the test under xvfb-run' };
  }
  return { path: exe };
}
