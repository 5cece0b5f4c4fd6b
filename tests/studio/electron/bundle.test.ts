// The built utilityProcess entry (out/main/engine-host.js) is the engine worker bundled by electron-vite; it
// speaks the same port protocol under node worker_threads, so its bundle can be checked without Electron.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ChannelEngineClient, threadWorkerChannel } from '../../../src-main/host/engine.js';
import { parseGenerateRequest } from '../../../src-main/engine/pipeline/request.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const entry = path.join(repoRoot, 'out', 'main', 'engine-host.js');
const built = existsSync(entry);
if (!built) console.log('[electron] skipping the bundle checks: out/ is not built (npm run build:studio)');

describe.skipIf(!built)('electron-vite bundle (out/)', () => {
  it('the engine host bundle runs a generation', async () => {
    const engine = new ChannelEngineClient(() => threadWorkerChannel({ workerUrl: pathToFileURL(entry) }));
    try {
      const results = await engine.generate(parseGenerateRequest({ model: path.join(repoRoot, 'tests', 'models', 'tiny-sd15'), prompt: 'x', width: 64, height: 64, steps: 2, sampler: 'euler', seed: 3 }));
      expect(results).toHaveLength(1);
      expect(results[0]!.seed).toBe('3');
    } finally {
      await engine.close();
    }
  });

  it('the sandboxed preload only requires electron', () => {
    const preload = readFileSync(path.join(repoRoot, 'out', 'preload', 'index.cjs'), 'utf8');
    const requires = [...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    expect([...new Set(requires)]).toEqual(['electron']);
    expect(preload).toContain('exposeInMainWorld');
  });

  it('the main process bundle loads no native module', () => {
    const main = readFileSync(path.join(repoRoot, 'out', 'main', 'index.js'), 'utf8');
    expect(main).not.toMatch(/from ["'](onnxruntime-node|sharp)["']/);
    const chunks = [...main.matchAll(/from ["']\.\/(chunks\/[^"']+)["']/g)].map((m) => m[1]!);
    for (const c of chunks) expect(readFileSync(path.join(repoRoot, 'out', 'main', c), 'utf8')).not.toMatch(/from ["'](onnxruntime-node|sharp)["']/);
  });
});
