// Large images on tiny-sd15 in a child process under LATENT_STUDIO_MEMORY_LIMIT=4G: a 2048×2048
// image-to-image is refused before it grows (its UNet's full-resolution self-attention alone needs tens of
// GB), and the size the refusal names finishes within the 4 GB. The parent kills the child above 6 GB, so
// a wrong estimate fails the test instead of growing until the kernel kills something.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/shared.js';

const KILL_ABOVE_BYTES = 6 * 2 ** 30;
const LIMIT_MB = 4096;

interface ChildResult {
  ok: boolean;
  code?: string;
  message?: string;
  width?: number;
  memory?: { vaeTiling: boolean; sequentialCfg: boolean; estimatedPeakBytes: number };
  peakMb: number;
  stages: Record<string, number>;
}

function runChild(job: object): Promise<ChildResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'tests/engine/pipeline/large-image-child.ts'), JSON.stringify(job)], {
    cwd: repoRoot,
    env: { ...process.env, LATENT_STUDIO_MEMORY_LIMIT: `${LIMIT_MB}M` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let killedAt = 0;
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  // A safety net, not a deadline: checks the child's resident memory while it runs.
  const watch = setInterval(() => {
    try {
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
      if (rss > KILL_ABOVE_BYTES) {
        killedAt = rss;
        child.kill('SIGKILL');
      }
    } catch {
      // the child has exited
    }
  }, 100);
  return new Promise((resolve, reject) => {
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      if (killedAt) return reject(new Error(`the child grew to ${Math.round(killedAt / 2 ** 20)} MB and was killed`));
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`child exited with ${code ?? signal}: ${err.slice(-2000)}`));
      resolve(JSON.parse(line) as ChildResult);
    });
  });
}

describe('large images within 4 GB (tiny-sd15, child process)', () => {
  let fits: { width: number; height: number } | undefined;

  it('a 2048×2048 image-to-image is refused before it grows, naming a size that fits', async () => {
    const res = await runChild({ width: 2048, height: 2048, steps: 2, strength: 0.5, cfgScale: 1 });
    expect(res).toMatchObject({ ok: false, code: 'too-large' });
    const m = /(\d+)×(\d+) fits/.exec(res.message!);
    expect(m, res.message).not.toBeNull();
    fits = { width: Number(m![1]), height: Number(m![2]) };
    expect(res.peakMb).toBeLessThan(LIMIT_MB);
  }, 120_000);

  it('the size it names finishes within 4 GB of peak memory, with the VAE tiled', async () => {
    expect(fits).toBeDefined();
    const res = await runChild({ ...fits, steps: 2, strength: 0.5, cfgScale: 1 });
    expect(res, res.message).toMatchObject({ ok: true, width: fits!.width, memory: { vaeTiling: true } });
    console.log(`large-image: ${fits!.width}×${fits!.height} peak ${Math.round(res.peakMb)} MB, estimate ${Math.round(res.memory!.estimatedPeakBytes / 2 ** 20)} MB, stages ${JSON.stringify(res.stages)}`);
    expect(res.peakMb).toBeLessThan(LIMIT_MB);
  }, 900_000);
});
