// Token counting for the prompt boxes, in the host process (pure JS, cached per model): it must answer while
// the engine worker is busy generating.
import path from 'node:path';
import { ClipTokenizer, findTokenizerDir } from '../engine/tokenizer/index.js';
import { countTokens, spellChunks, tokenizePrompt } from '../engine/prompt/index.js';
import type { TokenCount, TokenizeResult } from '../shared/contract.js';
import { HostError } from './models.js';

export class TokenizerCache {
  private readonly cache = new Map<string, Promise<ClipTokenizer>>();

  get(modelDir: string): Promise<ClipTokenizer> {
    const key = path.resolve(modelDir);
    let hit = this.cache.get(key);
    if (!hit) {
      hit = this.load(key);
      this.cache.set(key, hit);
      hit.catch(() => this.cache.delete(key));
      if (this.cache.size > 16) this.cache.delete(this.cache.keys().next().value!);
    }
    return hit;
  }

  private async load(dir: string): Promise<ClipTokenizer> {
    const d = await findTokenizerDir(dir);
    if (d !== null) {
      try {
        return await ClipTokenizer.fromDirectory(d);
      } catch (error) {
        throw new HostError('no-tokenizer', `Cannot load the tokenizer of ${dir}: ${(error as Error).message}`, { file: d });
      }
    }
    throw new HostError('no-tokenizer', `Model ${dir} has no tokenizer (tokenizer/vocab.json and tokenizer/merges.txt).`, { file: path.join(dir, 'tokenizer') });
  }

  async count(modelDir: string, text: string, emphasis = true): Promise<TokenCount> {
    const tok = await this.get(modelDir);
    return countTokens(tok, text, { emphasis });
  }

  async tokenize(modelDir: string, text: string, emphasis = true): Promise<TokenizeResult> {
    const tok = await this.get(modelDir);
    const info = countTokens(tok, text, { emphasis });
    const { chunks } = tokenizePrompt(tok, text, { emphasis });
    return { ...info, chunkTokens: spellChunks(tok, chunks) };
  }
}
