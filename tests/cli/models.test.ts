import { cpSync, openSync, ftruncateSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, model, runCli, tempDir } from './helpers.js';

beforeAll(() => ensureBuilt());

const TINY = ['tiny-sd15', 'tiny-sd15-fp16', 'tiny-sd2-v', 'tiny-inpaint', 'tiny-lcm', 'tiny-turbo'];

interface Inspection {
  name: string;
  supported: boolean;
  variant: string | null;
  dtypes: Record<string, string | null>;
  problems: string[];
  components: Record<string, { present: boolean; inputs: Array<{ name: string; type: string; shape: Array<number | string> }> }>;
}

describe('latent-studio models inspect', () => {
  it('prints each tiny variant: supported, variant, dtypes, inputs and outputs with shapes, sizes', async () => {
    const r = await runCli(['models', 'inspect', ...TINY.map(model)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const blocks = r.stdout.trim().split('\n\n');
    expect(blocks).toHaveLength(TINY.length);
    const expectedVariant: Record<string, RegExp> = {
      'tiny-sd15': /variant: sd1\b/,
      'tiny-sd15-fp16': /variant: sd1.*fp16/,
      'tiny-sd2-v': /variant: sd2.*v/,
      'tiny-inpaint': /variant: .*inpaint/,
      'tiny-lcm': /variant: .*lcm/,
      'tiny-turbo': /variant: sd2/,
    };
    TINY.forEach((name, i) => {
      const block = blocks[i]!;
      expect(block.split('\n')[0]).toMatch(new RegExp(`^${name} `));
      expect(block).toContain('supported: yes');
      expect(block).toMatch(expectedVariant[name]!);
      expect(block).toMatch(/dtypes: text_encoder float(32|16), unet float(32|16)/);
      expect(block).toMatch(/size: [\d.]+ (KiB|MiB)/);
      expect(block).toMatch(/in {2}sample +float(32|16) +\[(batch_size|1), (4|9), height, width\]/);
      expect(block).toMatch(/out (out_sample|latent) /);
    });
    expect(blocks[1]).toContain('dtypes: text_encoder float16, unet float16');
    expect(blocks[3]).toMatch(/sample +float32 +\[batch_size, 9, height, width\]/);
    expect(blocks[4]).toMatch(/in {2}timestep_cond +float32 +\[batch_size, 32\]/);
  });

  it('--json gives the engine inspection of each folder', async () => {
    const r = await runCli(['models', 'inspect', '--json', model('tiny-sd15'), model('tiny-sd15-fp16')]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Inspection[];
    expect(list.map((m) => [m.name, m.supported])).toEqual([
      ['tiny-sd15', true],
      ['tiny-sd15-fp16', true],
    ]);
    expect(list[1]!.dtypes.unet).toBe('float16');
    expect(list[0]!.components.unet!.inputs.map((i) => i.name)).toContain('encoder_hidden_states');
  });

  it('flags a broken model with the reasons, exit 3', async () => {
    const dir = path.join(tempDir(), 'sdxl-like');
    cpSync(model('tiny-sd15'), dir, { recursive: true });
    cpSync(model('bad-sdxl-like'), dir, { recursive: true });
    const r = await runCli(['models', 'inspect', dir]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('supported: NO');
    expect(r.stdout).toMatch(/not supported because:\n {4}- .*SDXL/);
  });

  it('flags a truncated UNet file', async () => {
    const dir = path.join(tempDir(), 'truncated');
    cpSync(model('tiny-sd15'), dir, { recursive: true });
    const unet = path.join(dir, 'unet/model.onnx');
    const fd = openSync(unet, 'r+');
    ftruncateSync(fd, Math.floor(statSync(unet).size / 2));
    closeSync(fd);
    const r = await runCli(['models', 'inspect', '--json', dir, model('tiny-sd15')]);
    expect(r.code).toBe(3);
    const [broken, fine] = JSON.parse(r.stdout) as Inspection[];
    expect(broken!.supported).toBe(false);
    expect(broken!.problems.join(' ')).toMatch(/unet\/model\.onnx/);
    expect(fine!.supported).toBe(true);
  });

  it('a missing folder is an error on stderr, exit 2; the others are still printed', async () => {
    const r = await runCli(['models', 'inspect', 'no/such/dir', model('tiny-sd15')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: 'no\/such\/dir': /);
    expect(r.stdout).toContain('tiny-sd15');
  });
});
