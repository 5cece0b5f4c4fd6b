// Builds only the renderer (out/renderer) with the renderer section of electron.vite.config.ts.
// `npx electron-vite build` builds all three targets; the e2e tests need just this one.
import { build } from 'vite';
import { resolve } from 'node:path';

export async function buildRenderer(root = process.cwd()): Promise<string> {
  const mod = await import(resolve(root, 'electron.vite.config.ts'));
  const config = mod.default as { renderer: Record<string, unknown> };
  const renderer = typeof config === 'function' ? (config as any)({ command: 'build', mode: 'production' }).renderer : config.renderer;
  await build({ ...renderer, configFile: false, logLevel: 'warn', mode: 'production' });
  return resolve(root, 'out/renderer');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildRenderer().then((dir) => console.log(`renderer built into ${dir}`));
}
