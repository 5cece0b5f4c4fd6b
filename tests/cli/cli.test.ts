import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from './helpers.js';

beforeAll(() => ensureBuilt());

describe('latent-studio (help, usage)', () => {
  it('--help lists the commands and exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['generate', 'tokenize', 'models', 'backends']) expect(r.stdout).toContain(cmd);
    expect(r.stdout).toContain('Exit codes');
  });

  it('every command has --help', async () => {
    for (const args of [['generate'], ['tokenize'], ['models'], ['models', 'inspect'], ['backends']]) {
      const r = await runCli([...args, '--help']);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toContain('Usage: latent-studio');
    }
    const gen = await runCli(['generate', '--help']);
    for (const flag of ['--model', '--prompt', '--negative', '--init', '--strength', '--mask', '--sampler', '--steps', '--cfg', '--seed', '--width', '--height', '--batch', '--out', '--preview-dir', '--backend', '--threads', '--mask-blur', '--inpaint-only-masked', '--inpaint-padding']) {
      expect(gen.stdout).toContain(flag);
    }
  });

  it('no arguments prints help on stderr and exits 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: latent-studio');
  });

  it('an unknown command or option is one line on stderr, exit 2', async () => {
    const cmd = await runCli(['genrate']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain("unknown command 'genrate'");
    expect(cmd.stderr).toContain('generate'); // suggestion

    const opt = await runCli(['backends', '--frobnicate']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain("unknown option '--frobnicate'");
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
