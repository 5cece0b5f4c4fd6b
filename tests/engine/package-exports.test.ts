// `import ... from 'latent-studio/engine'` must work through package.json `exports`
// (self-reference included) once `npm run build` has run (npm test builds first).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/shared.js';

describe('latent-studio/engine package export', () => {
  it('is built', () => {
    expect(existsSync(path.join(repoRoot, 'dist/engine/index.js'))).toBe(true);
    expect(existsSync(path.join(repoRoot, 'dist/engine/index.d.ts'))).toBe(true);
  });

  it('resolves by package name from inside the package (self-reference) in plain Node', () => {
    const script = `
      const engine = await import('latent-studio/engine');
      console.log(JSON.stringify(Object.keys(engine).sort()));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    const names = JSON.parse(out) as string[];
    for (const name of ['ClipTokenizer', 'TorchGenerator', 'createScheduler']) {
      expect(names).toContain(name);
    }
  });
});
