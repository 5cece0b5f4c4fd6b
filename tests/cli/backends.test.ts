import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendAdvice, formatBackendLine } from '../../src-main/cli/commands/backends.js';
import { ensureBuilt, model, runCli, tempDir } from './helpers.js';

const hasGpuBackend = process.env['LATENT_STUDIO_HAS_CUDA'] === '1' || process.env['LATENT_STUDIO_HAS_WEBGPU'] === '1';

beforeAll(() => ensureBuilt());

describe('latent-studio backends', () => {
  it('prints one line per backend, its name then works or fails: <reason>, and remembers the auto choice', async () => {
    const cache = tempDir('latent-cache-');
    const r = await runCli(['backends'], { env: { XDG_CACHE_HOME: cache } });
    expect(r.code).toBe(0);
    const [list, footer] = r.stdout.trimEnd().split('\n\n');
    const lines = list!.split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(['cpu', 'webgpu', 'cuda', 'tensorrt', 'dml', 'coreml']);
    for (const line of lines) expect(line).toMatch(/^\S+\s+(works|fails: .+)/);
    expect(lines[0]).toMatch(/^cpu\s+works$/);
    if (process.platform === 'linux') {
      expect(lines).toContain("dml       fails: not in onnxruntime-node's build for linux-x64 — Windows only");
      if (!hasGpuBackend) expect(lines.find((l) => l.startsWith('cuda'))).toMatch(/fails: .*ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
    }
    const file = path.join(cache, 'latent-studio', 'backends.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { backend: string };
    if (!hasGpuBackend) expect(saved.backend).toBe('cpu');
    expect(footer).toBe(`auto picks ${saved.backend} (the fastest that works; remembered in ${file})`);
  });

  it('--json gives each probe with what the build says', async () => {
    const r = await runCli(['backends', '--json'], { env: { XDG_CACHE_HOME: tempDir('latent-cache-') } });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { backends: Array<Record<string, unknown>>; auto: string };
    expect(out.backends[0]).toEqual({ name: 'cpu', works: true, listed: true, bundled: true });
    for (const b of out.backends) expect(b['works'] === true || typeof b['reason'] === 'string').toBe(true);
    if (!hasGpuBackend) expect(out.auto).toBe('cpu');
  });

  it.skipIf(hasGpuBackend || process.platform !== 'linux')('generate --backend auto warns on stderr that it runs on the CPU', async () => {
    const dir = tempDir();
    const cache = tempDir('latent-cache-');
    const args = ['generate', '-m', model('tiny-sd15'), '-p', 'a cat', '-W', '64', '-H', '64', '--steps', '1', '--threads', '1', '--backend', 'auto', '-q', '-o', 'a.png'];
    const r = await runCli(args, { cwd: dir, env: { XDG_CACHE_HOME: cache } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: backend auto \(cpu\): no GPU backend works on this machine .*running on the CPU/m);
    expect(existsSync(path.join(dir, 'a.png'))).toBe(true);
    expect(existsSync(path.join(cache, 'latent-studio', 'backends.json'))).toBe(true);
  });
});

describe('advice', () => {
  it('says how to get each backend where it can exist, and where it cannot', () => {
    const fails = (name: string) => ({ name, works: false, reason: 'r' });
    expect(backendAdvice(fails('cuda'), 'linux', 'x64')).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
    expect(backendAdvice(fails('cuda'), 'win32', 'x64')).toMatch(/Linux x64 only .*dml/);
    expect(backendAdvice(fails('dml'), 'linux', 'x64')).toBe('Windows only');
    expect(backendAdvice(fails('coreml'), 'win32', 'x64')).toBe('macOS on Apple silicon only');
    expect(backendAdvice({ name: 'cuda', works: true }, 'linux', 'x64')).toBeUndefined();
    expect(formatBackendLine({ name: 'cpu', works: true }, 6)).toBe('cpu     works');
  });
});
