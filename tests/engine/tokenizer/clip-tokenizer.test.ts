import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer, parseMerges } from '../../../src-main/engine/tokenizer/index.js';
import { readJsonl, readSharedJsonl, repoRoot, sharedPath } from '../../helpers/shared.js';
import { cpuMsPerCall } from '../../helpers/cpu-time.js';

const VOCAB = sharedPath('clip-tokenizer', 'vocab.json');
const MERGES = sharedPath('clip-tokenizer', 'merges.txt');
const fixture = (name: string): string => path.join(repoRoot, 'tests', 'fixtures', 'tokenizer', name);

let tok: ClipTokenizer;
beforeAll(async () => {
  tok = await ClipTokenizer.fromFiles(VOCAB, MERGES);
});

/** Ids of a text as words: handy for readable expectations. */
function ids(text: string): number[] {
  return tok.encode(text);
}

describe('ClipTokenizer basics', () => {
  it('has the SD 1.x special tokens and defaults', () => {
    expect(tok.bosTokenId).toBe(49406);
    expect(tok.eosTokenId).toBe(49407);
    expect(tok.padTokenId).toBe(49407);
    expect(tok.modelMaxLength).toBe(77);
    expect(tok.vocabSize).toBe(49408);
    expect(tok.idToToken(49406)).toBe('<|startoftext|>');
    expect(tok.idToToken(320)).toBe('a</w>');
    expect(tok.tokenToId('a</w>')).toBe(320);
    expect(tok.idToToken(123456)).toBeUndefined();
    expect(tok.tokenText(1125)).toBe('photo ');
    expect(tok.decode(ids('a photo of an astronaut'))).toBe('a photo of an astronaut ');
    expect(tok.decode(ids('café 😀 猫'))).toBe('café 😀 猫 ');
  });

  it('matches the shared reference examples (77 ids)', () => {
    const rows = readSharedJsonl<{ prompt: string; ids: number[] }>('reference', 'clip_tokenizer_examples.jsonl');
    expect(rows.length).toBeGreaterThan(0);
    for (const { prompt, ids: want } of rows) {
      expect(tok.encodeForModel(prompt), prompt).toEqual(want);
    }
  });

  it('matches OpenAI CLIP on the generated reference fixture', () => {
    const rows = readJsonl<{ prompt: string; tokens: number[] }>(fixture('clip_reference_tokens.jsonl'));
    expect(rows.length).toBeGreaterThan(1000);
    const mismatches: string[] = [];
    for (const { prompt, tokens } of rows) {
      const got = tok.encode(prompt);
      if (JSON.stringify(got) !== JSON.stringify(tokens)) mismatches.push(JSON.stringify(prompt));
      // encodeForModel is the truncated, wrapped, padded form of the same ids.
      const model = tok.encodeForModel(prompt);
      expect(model.length).toBe(77);
      expect(model).toEqual([49406, ...tokens.slice(0, 75), 49407, ...new Array<number>(Math.max(0, 75 - tokens.length)).fill(49407)]);
    }
    expect(mismatches).toEqual([]);
  });

  it('matches OpenAI CLIP on random soups of tricky characters', () => {
    const rows = readJsonl<{ prompt: string; tokens: number[] }>(fixture('clip_reference_tokens_fuzz.jsonl'));
    expect(rows.length).toBeGreaterThan(1000);
    const mismatches = rows.filter(({ prompt, tokens }) => JSON.stringify(tok.encode(prompt)) !== JSON.stringify(tokens)).map((r) => r.prompt);
    expect(mismatches).toEqual([]);
  });

  it('matches OpenAI CLIP on long words (fast BPE path)', () => {
    const rows = readJsonl<{ prompt: string; tokens: number[] }>(fixture('clip_reference_long_words.jsonl'));
    expect(rows.length).toBeGreaterThan(50);
    const mismatches = rows.filter(({ prompt, tokens }) => JSON.stringify(tok.encode(prompt)) !== JSON.stringify(tokens)).map((r) => r.prompt);
    expect(mismatches).toEqual([]);
  });

  it('fast and literal BPE agree on random long words', () => {
    const simple = (w: string): string[] => tok['bpeSimple'](w);
    const heap = (w: string): string[] | undefined => tok['bpeHeap'](w);
    let seed = 42;
    const rand = (k: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return (seed >> 8) % k;
    };
    const alphabet = 'abcdefghijklmnopqrstuvwxyz'.split('').concat(['\u0120', '\u00e2', '\u00a2', 'e', 'e', 'a', 'n']);
    for (let i = 0; i < 200; i++) {
      const n = 2 + rand(300);
      let w = '';
      for (let j = 0; j < n; j++) w += alphabet[rand(alphabet.length)];
      expect(heap(w), w).toEqual(simple(w));
    }
  });

  it('tokenizes a 20,000-letter word quickly', () => {
    let w = '';
    for (let i = 0; i < 20000; i++) w += String.fromCharCode(97 + ((i * 7919) % 26));
    let out: number[] = [];
    const ms = cpuMsPerCall(() => (out = ids(w)), 1, 1); // CPU time: a busy machine does not inflate it
    expect(out.length).toBeGreaterThan(1000);
    expect(ms).toBeLessThan(2000);
  });

  it('treats U+0345 and long s like CLIP (regex IGNORECASE quirks)', () => {
    // U+0345 matches no alternative of CLIP's case-insensitive pattern: it is dropped.
    expect(ids('a\u0345b')).toEqual(ids('a b'));
    // "'ſ" matches the "'s" contraction case-insensitively: one pre-token, three BPE pieces.
    expect(ids("it'\u017f")).toEqual([585, 6, 129, 379]);
  });

  it('encodes the empty string and whitespace-only strings', () => {
    expect(ids('')).toEqual([]);
    expect(ids('   \t\n ')).toEqual([]);
    const empty = tok.encodeForModel('');
    expect(empty.length).toBe(77);
    expect(empty[0]).toBe(49406);
    expect(empty.slice(1).every((x) => x === 49407)).toBe(true);
  });

  it('lower-cases and collapses whitespace', () => {
    expect(ids('A PHOTO   of\tan\n\nASTRONAUT')).toEqual(ids('a photo of an astronaut'));
    expect(ids('  padded  ')).toEqual(ids('padded'));
    expect(ids('nbsp\u00a0here')).toEqual(ids('nbsp here'));
    expect(ids('ideographic\u3000space')).toEqual(ids('ideographic space'));
  });

  it('splits contractions, letters, single digits and punctuation runs like CLIP', () => {
    expect(ids("it's")).toEqual([585, 568]);
    expect(ids('8k')).toEqual([279, 330]);
    expect(ids('100')).toEqual([272, 271, 271]);
    expect(ids('hello, world!')).toEqual([3306, 267, 1002, 256]);
    expect(ids('!!!')).toEqual([995]);
    // typed special tokens map to their ids
    expect(ids('a <|endoftext|> b')).toEqual([320, 49407, 321]);
  });

  it('handles emoji, CJK and accents', () => {
    expect(ids('😀')).toEqual([7334]);
    expect(ids('猫')).toEqual([163, 234, 360]);
    expect(ids('café')).toEqual([15304]);
    // NFC: e + combining acute is the same as é
    expect(ids('cafe\u0301')).toEqual(ids('café'));
  });

  it('applies ftfy fixes: curly quotes, ligatures, full-width, html entities', () => {
    expect(ids('“quotes” ‘single’')).toEqual(ids('"quotes" \'single\''));
    expect(ids('ﬁne ﬂower')).toEqual(ids('fine flower'));
    expect(ids('Ｆｕｌｌｗｉｄｔｈ　ＴＥＸＴ１２')).toEqual(ids('fullwidth text12'));
    expect(ids('&amp; &lt;b&gt; &quot;x&quot;')).toEqual(ids('& <b> "x"'));
    expect(ids('&amp;amp;amp;amp;')).toEqual(ids('&'));
    expect(ids('&ldquo;hi&rdquo;')).toEqual(ids('"hi"'));
    expect(ids('C1 \u0093quoted\u0094')).toEqual(ids('c1 "quoted"'));
    expect(ids('bell\u0007char')).toEqual(ids('bellchar'));
    expect(ids('esc\u001b[31mred\u001b[0m')).toEqual(ids('escred'));
  });

  it('truncates encodeForModel to start + 75 + end', () => {
    const long = Array.from({ length: 200 }, () => 'cat').join(' ');
    const all = ids(long);
    expect(all.length).toBe(200);
    const model = tok.encodeForModel(long);
    expect(model.length).toBe(77);
    expect(model[0]).toBe(49406);
    expect(model.slice(1, 76)).toEqual(all.slice(0, 75));
    expect(model[76]).toBe(49407);
  });

  it('caches BPE results and stays correct', () => {
    tok.clearCache();
    const a = ids('supercalifragilistic astronaut');
    expect(tok.cachedWords).toBeGreaterThan(0);
    expect(ids('supercalifragilistic astronaut')).toEqual(a);
  });

  it('parses merges files with and without a header', () => {
    expect(parseMerges('#version: 0.2\na b\nab c\n')).toEqual([['a', 'b'], ['ab', 'c']]);
    expect(parseMerges('a b\r\n\r\n')).toEqual([['a', 'b']]);
    expect(() => parseMerges('#version: 0.2\nabc\n')).toThrow();
  });
});

describe('ClipTokenizer.fromDirectory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clip-tok-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function makeDir(name: string, files: Record<string, unknown>): Promise<string> {
    const d = path.join(dir, name);
    await import('node:fs/promises').then((fs) => fs.mkdir(d, { recursive: true }));
    await writeFile(path.join(d, 'vocab.json'), await readFile(VOCAB));
    await writeFile(path.join(d, 'merges.txt'), await readFile(MERGES));
    for (const [f, content] of Object.entries(files)) await writeFile(path.join(d, f), JSON.stringify(content));
    return d;
  }

  it('uses SD 1.x defaults without config files', async () => {
    const t = await ClipTokenizer.fromDirectory(await makeDir('plain', {}));
    expect([t.bosTokenId, t.eosTokenId, t.padTokenId, t.modelMaxLength]).toEqual([49406, 49407, 49407, 77]);
  });

  it('reads an SD 1.5 tokenizer_config.json (AddedToken objects)', async () => {
    const d = await makeDir('sd15', {
      'tokenizer_config.json': {
        add_prefix_space: false,
        bos_token: { __type: 'AddedToken', content: '<|startoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false },
        eos_token: { __type: 'AddedToken', content: '<|endoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false },
        pad_token: '<|endoftext|>',
        model_max_length: 77,
        tokenizer_class: 'CLIPTokenizer',
        unk_token: { __type: 'AddedToken', content: '<|endoftext|>' },
      },
    });
    const t = await ClipTokenizer.fromDirectory(d);
    expect([t.bosTokenId, t.eosTokenId, t.padTokenId, t.modelMaxLength]).toEqual([49406, 49407, 49407, 77]);
  });

  it('pads with id 0 for SD 2.x tokenizers (pad_token "!")', async () => {
    const d = await makeDir('sd2', {
      'special_tokens_map.json': {
        bos_token: { content: '<|startoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false },
        eos_token: { content: '<|endoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false },
        pad_token: '!',
        unk_token: { content: '<|endoftext|>' },
      },
      'tokenizer_config.json': { pad_token: '<|endoftext|>', model_max_length: 77 },
    });
    const t = await ClipTokenizer.fromDirectory(d);
    expect(t.padTokenId).toBe(0);
    const model = t.encodeForModel('a red apple');
    expect(model.slice(0, 6)).toEqual([49406, 320, 736, 3055, 49407, 0]);
    expect(model.length).toBe(77);
    expect(model.slice(5).every((x) => x === 0)).toBe(true);
  });

  it('ignores the int(1e30) "unset" model_max_length', async () => {
    const d = await makeDir('huge', { 'tokenizer_config.json': { model_max_length: 1e30 } });
    expect((await ClipTokenizer.fromDirectory(d)).modelMaxLength).toBe(77);
  });

  it('accepts padTokenId / modelMaxLength options', async () => {
    const t = await ClipTokenizer.fromFiles(VOCAB, MERGES, { padTokenId: 0, modelMaxLength: 10 });
    expect(t.encodeForModel('a red apple')).toEqual([49406, 320, 736, 3055, 49407, 0, 0, 0, 0, 0]);
    expect(t.encodeForModel('one two three four five six seven eight nine ten')).toHaveLength(10);
  });
});
