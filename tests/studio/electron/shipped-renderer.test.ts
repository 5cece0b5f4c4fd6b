// The shipped renderer (out/renderer, built by `npm run build`) carries no test hook: window.__latentStudio and
// window.__latentStudioAutosave exist only in the e2e build (src-renderer/src/lib/e2e-hooks.ts). Source maps are
// not shipped (build/electron-builder.yml drops *.map), so they are not checked.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const rendererDir = path.join(repoRoot, 'out', 'renderer');
const built = existsSync(path.join(rendererDir, 'index.html'));
if (!built) console.log('[renderer] skipping the shipped-bundle check: out/renderer is not built (npm run build:studio)');

const HOOK_NAME = '__latentStudio';

function shippedFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.endsWith('.map'))
    .map((e) => path.join(e.parentPath, e.name));
}

describe.skipIf(!built)('shipped renderer bundle (out/renderer)', () => {
  it('the hook source still uses the name this test looks for', () => {
    expect(readFileSync(path.join(repoRoot, 'src-renderer/src/lib/e2e-hooks.ts'), 'utf8')).toContain(`${HOOK_NAME} =`);
  });

  it('has no test hook in any shipped file', () => {
    const files = shippedFiles(rendererDir);
    expect(files.some((f) => f.endsWith('.js'))).toBe(true);
    const withHook = files.filter((f) => readFileSync(f, 'latin1').includes(HOOK_NAME)).map((f) => path.relative(rendererDir, f));
    expect(withHook).toEqual([]);
  });
});
