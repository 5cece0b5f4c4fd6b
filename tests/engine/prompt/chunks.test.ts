import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../../src-main/engine/tokenizer/index.js';
import {
  countTokens,
  emptyChunk,
  padChunks,
  padToSameChunkCount,
  parsePromptAttention,
  tokenizePrompt,
  type PromptChunk,
} from '../../../src-main/engine/prompt/index.js';
import { readJsonl, repoRoot, sharedPath } from '../../helpers/shared.js';

const BOS = 49406;
const EOS = 49407;
const COMMA = 267;
let tok: ClipTokenizer;
let tokSd2: ClipTokenizer;
beforeAll(async () => {
  tok = await ClipTokenizer.fromFiles(sharedPath('clip-tokenizer', 'vocab.json'), sharedPath('clip-tokenizer', 'merges.txt'));
  tokSd2 = await ClipTokenizer.fromFiles(sharedPath('clip-tokenizer', 'vocab.json'), sharedPath('clip-tokenizer', 'merges.txt'), { padTokenId: 0 });
});

interface FixtureRow {
  prompt: string;
  parsed: Array<[string, number]>;
  tokenCount: number;
  chunks: PromptChunk[];
}

/** Fixture chunks are stored without their trailing eos padding. */
function padFixtureChunk(c: PromptChunk): PromptChunk {
  const ids = c.ids.slice();
  const weights = c.weights.slice();
  while (ids.length < 77) {
    ids.push(EOS);
    weights.push(1);
  }
  return { ids, weights };
}

describe('tokenizePrompt (A1111 tokenize_line)', () => {
  it('matches the A1111 reference fixture (parse, chunks, weights, token count)', () => {
    const rows = readJsonl<FixtureRow>(path.join(repoRoot, 'tests', 'fixtures', 'tokenizer', 'a1111_prompt_chunks.jsonl'));
    expect(rows.length).toBeGreaterThan(300);
    let multiChunk = 0;
    for (const row of rows) {
      expect(parsePromptAttention(row.prompt).map((f) => [f.text, f.weight]), row.prompt).toEqual(row.parsed);
      const got = tokenizePrompt(tok, row.prompt);
      expect(got.chunks, row.prompt).toEqual(row.chunks.map(padFixtureChunk));
      expect(got.tokenCount, row.prompt).toBe(row.tokenCount);
      if (got.chunks.length > 1) multiChunk++;
    }
    expect(multiChunk).toBeGreaterThan(30);
  });

  it('wraps a short prompt in one 77-id chunk with per-token weights', () => {
    const { chunks, tokenCount } = tokenizePrompt(tok, 'a (red:1.5) apple');
    expect(tokenCount).toBe(3);
    expect(chunks).toHaveLength(1);
    const c = chunks[0]!;
    expect(c.ids).toHaveLength(77);
    expect(c.weights).toHaveLength(77);
    expect(c.ids.slice(0, 5)).toEqual([BOS, 320, 736, 3055, EOS]);
    expect(c.weights.slice(0, 5)).toEqual([1, 1, 1.5, 1, 1]);
    expect(c.ids.slice(5).every((x) => x === EOS)).toBe(true);
    expect(c.weights.slice(5).every((x) => x === 1)).toBe(true);
  });

  it('gives the empty prompt one chunk and zero tokens', () => {
    const { chunks, tokenCount } = tokenizePrompt(tok, '');
    expect(tokenCount).toBe(0);
    expect(chunks).toEqual([emptyChunk(tok)]);
    expect(chunks[0]!.ids.slice(0, 3)).toEqual([BOS, EOS, EOS]);
  });

  it('never cuts long prompts: 200 words give 3 chunks', () => {
    const text = Array.from({ length: 200 }, () => 'cat').join(' ');
    const { chunks, tokenCount } = tokenizePrompt(tok, text);
    expect(chunks).toHaveLength(3);
    expect(tokenCount).toBe(75 + 75 + 50);
    for (const c of chunks) {
      expect(c.ids).toHaveLength(77);
      expect(c.ids[0]).toBe(BOS);
      expect(c.ids[76]).toBe(EOS);
    }
    const body = chunks.flatMap((c) => c.ids.slice(1, 76)).filter((x) => x !== EOS);
    expect(body).toEqual(tok.encode(text));
  });

  it('exactly 75 tokens fit one chunk, 76 need two', () => {
    expect(tokenizePrompt(tok, Array(75).fill('cat').join(' ')).chunks).toHaveLength(1);
    const two = tokenizePrompt(tok, Array(76).fill('cat').join(' '));
    expect(two.chunks).toHaveLength(2);
    expect(two.tokenCount).toBe(76);
  });

  it('BREAK pads the current chunk out', () => {
    const { chunks, tokenCount } = tokenizePrompt(tok, 'a red apple BREAK a green pear');
    expect(chunks).toHaveLength(2);
    expect(tokenCount).toBe(75 + 3);
    expect(chunks[0]!.ids.slice(0, 5)).toEqual([BOS, 320, 736, 3055, EOS]);
    expect(chunks[1]!.ids.slice(0, 5)).toEqual([BOS, 320, 1901, 18820, EOS]);
  });

  it('moves the words after the last comma to the next chunk (comma backtrack, 20 tokens)', () => {
    // 70 words, a comma, then 10 words: the chunk fills at 75 and the comma is 4 tokens back.
    const text = `${Array(70).fill('cat').join(' ')}, ${Array(10).fill('dog').join(' ')}`;
    const { chunks } = tokenizePrompt(tok, text);
    expect(chunks).toHaveLength(2);
    expect(chunks[0]!.ids[71]).toBe(COMMA);
    expect(chunks[0]!.ids.slice(72)).toEqual([EOS, EOS, EOS, EOS, EOS]);
    expect(chunks[1]!.ids.slice(1, 11)).toEqual(Array(10).fill(tok.encode('dog')[0]));
    // disabled: the chunk is filled completely
    const off = tokenizePrompt(tok, text, { commaPaddingBacktrack: 0 });
    expect(off.chunks[0]!.ids.slice(72, 76)).toEqual(Array(4).fill(tok.encode('dog')[0]));
    // a comma further back than 20 tokens is not used
    const far = `${Array(50).fill('cat').join(' ')}, ${Array(40).fill('dog').join(' ')}`;
    expect(tokenizePrompt(tok, far).chunks[0]!.ids[75]).toBe(tok.encode('dog')[0]);
  });

  it('uses the tokenizer pad id after the end token (SD 2.x: 0)', () => {
    const { chunks } = tokenizePrompt(tokSd2, 'a red apple BREAK pear');
    expect(chunks[0]!.ids.slice(0, 6)).toEqual([BOS, 320, 736, 3055, EOS, 0]);
    expect(chunks[0]!.ids.slice(5).every((x) => x === 0)).toBe(true);
    expect(emptyChunk(tokSd2).ids.slice(0, 3)).toEqual([BOS, EOS, 0]);
    // a full chunk has no padding: [bos, 75 ids, eos]
    const full = tokenizePrompt(tokSd2, Array(75).fill('cat').join(' ')).chunks[0]!;
    expect(full.ids[76]).toBe(EOS);
  });

  it('emphasis: false treats the syntax as text', () => {
    const plain = tokenizePrompt(tok, '(red:1.5)', { emphasis: false });
    expect(plain.chunks[0]!.weights.every((w) => w === 1)).toBe(true);
    expect(plain.chunks[0]!.ids.slice(1, 1 + tok.encode('(red:1.5)').length)).toEqual(tok.encode('(red:1.5)'));
  });
});

describe('padChunks / padToSameChunkCount', () => {
  it('pads the negative prompt to the positive chunk count with empty chunks', () => {
    const positive = tokenizePrompt(tok, Array(100).fill('cat').join(' '));
    const negative = tokenizePrompt(tok, 'blurry');
    const padded = padChunks(negative, positive.chunks.length);
    expect(padded.chunks).toHaveLength(2);
    expect(padded.chunks[0]).toEqual(negative.chunks[0]);
    expect(padded.chunks[1]).toEqual(emptyChunk(tok));
    expect(padded.tokenCount).toBe(negative.tokenCount);
    expect(negative.chunks).toHaveLength(1); // input unchanged
    expect(padChunks(positive, 1)).toBe(positive); // never cut
  });

  it('pads whichever is shorter', () => {
    const short = tokenizePrompt(tok, 'cat');
    const long = tokenizePrompt(tok, Array(160).fill('dog').join(' '));
    const a = padToSameChunkCount(short, long);
    expect(a.positive.chunks).toHaveLength(3);
    expect(a.negative.chunks).toHaveLength(3);
    const b = padToSameChunkCount(long, short);
    expect(b.positive.chunks).toHaveLength(3);
    expect(b.negative.chunks).toHaveLength(3);
  });

  it('uses the tokenizer when the tokens carry no empty chunk', () => {
    const bare = { chunks: tokenizePrompt(tokSd2, 'cat').chunks, tokenCount: 1 };
    expect(() => padChunks(bare, 2)).toThrow();
    expect(padChunks(bare, 2, tokSd2).chunks[1]).toEqual(emptyChunk(tokSd2));
  });
});

describe('countTokens', () => {
  it('reports tokens, chunks and the A1111 limit', () => {
    expect(countTokens(tok, '')).toEqual({ tokens: 0, chunks: 1, perChunk: 75, limit: 75 });
    expect(countTokens(tok, 'a photo of an astronaut')).toEqual({ tokens: 5, chunks: 1, perChunk: 75, limit: 75 });
    expect(countTokens(tok, Array(80).fill('cat').join(' '))).toEqual({ tokens: 80, chunks: 2, perChunk: 75, limit: 150 });
    expect(countTokens(tok, 'a BREAK b')).toEqual({ tokens: 76, chunks: 2, perChunk: 75, limit: 150 });
    // emphasis syntax does not count
    expect(countTokens(tok, '((cat:1.2))').tokens).toBe(1);
  });
});
