// The folders of src-main import one way only (shared/ files too): see tools/import-cycles.ts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findImportCycles } from '../../tools/import-cycles.js';

const srcMain = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src-main');

describe('import cycles', () => {
  it('src-main has no folder cycle and no file cycle in shared/', () => {
    expect(findImportCycles(srcMain)).toEqual({ folders: [], sharedFiles: [] });
  });

  it('finds a folder cycle and a shared/ file cycle when there is one', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-cycles-'));
    try {
      const files: Record<string, string> = {
        'gallery/a.ts': "import { b } from '../autosave/b.js';\nexport const a = b;\n",
        'autosave/b.ts': "import type { C } from '../gallery/c.js';\nexport const b = 1 as C;\n",
        'gallery/c.ts': 'export type C = number;\n',
        'shared/x.ts': "export * from './y.js';\nexport const x = 1;\n",
        'shared/y.ts': "import { x } from './x.js';\nexport const y = x;\n",
      };
      for (const [name, text] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(tmp, name)), { recursive: true });
        await writeFile(path.join(tmp, name), text);
      }
      const found = findImportCycles(tmp);
      expect(found.folders.map((c) => c.members)).toEqual([['autosave', 'gallery']]);
      expect(found.folders[0]!.examples.sort()).toEqual(['autosave/b.ts -> gallery/c.ts', 'gallery/a.ts -> autosave/b.ts']);
      expect(found.sharedFiles).toEqual([['shared/x.ts', 'shared/y.ts']]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
