// Starts the browser host (startWebHost, src-main/web) on 127.0.0.1 with the tiny test models and the
// e2e build of the renderer (test-artifacts/renderer-e2e, see build-renderer.ts), in this process.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const MODELS_DIR = join(ROOT, 'tests/models');
export const RENDERER_DIR = join(ROOT, 'test-artifacts/renderer-e2e');

export interface RunningHost {
  /** The page address, token included. */
  url: string;
  close(): Promise<void>;
}

/** Why the host cannot start here (no web host module yet), or null. */
export function hostMissingReason(): string | null {
  return existsSync(join(ROOT, 'src-main/web/index.ts')) ? null : 'the browser host (startWebHost in src-main/web/) is not there';
}

export async function startHost(): Promise<RunningHost> {
  const { startWebHost } = await import('../../../src-main/web/index.js');
  const scratch = mkdtempSync(join(tmpdir(), 'latent-studio-e2e-'));
  const host = await startWebHost({
    host: '127.0.0.1',
    port: 0,
    rendererDir: RENDERER_DIR,
    modelsDir: MODELS_DIR,
    settingsFile: join(scratch, 'settings.json'),
  });
  return {
    url: host.url,
    async close() {
      await host.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
