// Builds the renderer for the end-to-end tests into test-artifacts/renderer-e2e with the renderer section of
// electron.vite.config.ts, in vite mode 'e2e': that build alone exposes window.__latentStudio and
// window.__latentStudioAutosave (src-renderer/src/lib/e2e-hooks.ts). out/renderer stays the shipped build.
import { build } from 'vite';
import { resolve } from 'node:path';

export async function buildRenderer(root = process.cwd()): Promise<string> {
  const mod = await import(resolve(root, 'electron.vite.config.ts'));
  const config = mod.default as { renderer: Record<string, unknown> & { build: Record<string, unknown> } };
  const renderer = typeof config === 'function' ? (config as any)({ command: 'build', mode: 'e2e' }).renderer : config.renderer;
  const outDir = resolve(root, 'test-artifacts/renderer-e2e');
  await build({ ...renderer, build: { ...renderer.build, outDir }, configFile: false, logLevel: 'warn', mode: 'e2e' });
  return outDir;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildRenderer().then((dir) => console.log(`renderer built into ${dir}`));
}
