import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../src-main/engine/tokenizer/index.js';
import { tokenizePrompt } from '../../src-main/engine/prompt/index.js';
import { ensureBuilt, model, runCli } from './helpers.js';

beforeAll(() => ensureBuilt());

describe('latent-studio tokenize', () => {
  it('prints the token count and a table of the prompt tokens', async () => {
    const r = await runCli(['tokenize', '--model', model('tiny-sd15'), 'a (red:1.5) cat']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const tokenizer = await ClipTokenizer.fromDirectory(path.join(model('tiny-sd15'), 'tokenizer'));
    const expected = tokenizePrompt(tokenizer, 'a (red:1.5) cat');
    expect(r.stdout).toContain(`tokens: ${expected.tokenCount}/75 (1 chunk of 75)`);
    expect(r.stdout).toMatch(/#\s+id\s+token\s+weight/);
    expect(r.stdout).toContain('1.5');
  });

  it('--json gives the same chunks, ids and weights as the engine', async () => {
    const text = 'a photo of a cat, (masterpiece:1.2), [blurry], BREAK a dog';
    const r = await runCli(['tokenize', '--json', '-m', model('tiny-sd15'), text]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { tokenCount: number; limit: number; chunks: Array<{ ids: number[]; weights: number[]; tokens: string[]; promptTokens: number }> };
    const tokenizer = await ClipTokenizer.fromDirectory(path.join(model('tiny-sd15'), 'tokenizer'));
    const expected = tokenizePrompt(tokenizer, text);
    expect(report.tokenCount).toBe(expected.tokenCount);
    expect(report.chunks.map((c) => c.ids)).toEqual(expected.chunks.map((c) => c.ids));
    expect(report.chunks.map((c) => c.weights)).toEqual(expected.chunks.map((c) => c.weights));
    expect(report.chunks).toHaveLength(2); // BREAK starts a second chunk
    expect(report.limit).toBe(150);
    for (const chunk of report.chunks) {
      expect(chunk.ids).toHaveLength(77);
      expect(chunk.tokens[0]).toBe('<|startoftext|>');
    }
  });

  it('a long prompt takes several chunks, nothing cut', async () => {
    const text = Array.from({ length: 60 }, (_, i) => (i % 2 ? 'cat' : 'dog')).join(' ');
    const r = await runCli(['tokenize', '--json', '-m', model('tiny-sd15'), `${text}, ${text}`]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { tokenCount: number; chunks: unknown[] };
    expect(report.chunks.length).toBeGreaterThanOrEqual(2);
    expect(report.tokenCount).toBeGreaterThan(75);
  });

  it('--no-emphasis keeps brackets as text', async () => {
    const r = await runCli(['tokenize', '--json', '--no-emphasis', '-m', model('tiny-sd15'), '(cat:1.5)']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { chunks: Array<{ weights: number[] }> };
    expect(report.chunks[0]!.weights.every((w) => w === 1)).toBe(true);
  });

  it('uses the SD 2 tokenizer config (pad token "!")', async () => {
    const r = await runCli(['tokenize', '--json', '-m', model('tiny-sd2-v'), 'a cat']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { chunks: Array<{ ids: number[] }> };
    const tokenizer = await ClipTokenizer.fromDirectory(path.join(model('tiny-sd2-v'), 'tokenizer'));
    expect(report.chunks[0]!.ids.at(-1)).toBe(tokenizer.padTokenId);
  });

  it('without --model it uses the shipped demo model (its own vocabulary)', async () => {
    const r = await runCli(['tokenize', '--json', 'a red circle']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { tokenizer: string; tokenCount: number };
    expect(report.tokenCount).toBe(3);
    expect(report.tokenizer).toContain('latent-studio-demo');
  });

  it('a missing --model folder or a folder without a tokenizer is a one-line error, exit 2', async () => {
    const missing = await runCli(['tokenize', '-m', path.join(model('tiny-sd15'), 'nope'), 'a cat']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--model .*no such directory/);

    const noTokenizer = await runCli(['tokenize', '-m', path.join(model('tiny-sd15'), 'unet'), 'a cat']);
    expect(noTokenizer.code).toBe(2);
    expect(noTokenizer.stderr).toContain('no tokenizer found');
  });
});
