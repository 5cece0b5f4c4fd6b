// Exact port of OpenAI CLIP's BPE tokenizer (clip/simple_tokenizer.py: ftfy + html clean-up, CLIP's
// pre-tokenizing regex, byte-level BPE), the tokenizer of Stable Diffusion's CLIP text encoders.
// transformers' CLIPTokenizer gives the same ids except that it skips html.unescape (and its "fast"
// variant skips ftfy): they differ only on prompts with HTML entities, curly quotes, ligatures...
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UNICODE_TO_BYTE, toByteLevel } from './bytes.js';
import { PY_WHITESPACE_CLASS, clipClean } from './clean.js';

export const CLIP_BOS_TOKEN = '<|startoftext|>';
export const CLIP_EOS_TOKEN = '<|endoftext|>';
export const CLIP_MODEL_MAX_LENGTH = 77;

export interface ClipTokenizerOptions {
  /** Id used to pad encodeForModel's output. Default: the pad token's id, else the eos id (SD 1.x). */
  padTokenId?: number;
  /** Pad token as a string (e.g. "!" for SD 2.x, whose id is 0); ignored when padTokenId is given. */
  padToken?: string;
  /** Sequence length of the text encoder; default 77. */
  modelMaxLength?: number;
  /** Default '<|startoftext|>'. */
  bosToken?: string;
  /** Default '<|endoftext|>'. */
  eosToken?: string;
  /** Token used for BPE pieces missing from the vocabulary; default the eos token (as CLIPTokenizer). */
  unkToken?: string;
  /** Maximum number of words kept in the BPE cache (default 50,000; the cache is cleared when full). */
  cacheSize?: number;
}

// CLIP's pre-tokenizer:
//   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// compiled by CLIP with the `regex` module and re.IGNORECASE on lower-cased text. Under IGNORECASE,
// "'ſ" matches 's, and U+0345 (which folds to a Greek letter) matches no alternative at all, so it is
// dropped. `\s` is Python's (Unicode White_Space), not JavaScript's.
const PRETOKENIZE_RE = new RegExp(
  [
    '<\\|startoftext\\|>',
    '<\\|endoftext\\|>',
    "'[sS\\u017f]",
    "'[tT]",
    "'[rR][eE]",
    "'[vV][eE]",
    "'[mM]",
    "'[lL][lL]",
    "'[dD]",
    '\\p{L}+',
    '\\p{N}',
    `[^${PY_WHITESPACE_CLASS}\\p{L}\\p{N}\\u0345]+`,
  ].join('|'),
  'gu',
);

const END_OF_WORD = '</w>';
/** Words longer than this (in bytes) use the O(n log n) BPE. */
const LONG_WORD = 64;
/** Heap keys are rank * POS_SCALE + position. */
const POS_SCALE = 1 << 22;

/** Binary min-heap of numbers. */
class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(value: number): void {
    const a = this.items;
    a.push(value);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= value) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = value;
  }
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const len = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= len) break;
        const r = l + 1;
        const c = r < len && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

interface TokenizerConfigJson {
  bos_token?: unknown;
  eos_token?: unknown;
  pad_token?: unknown;
  unk_token?: unknown;
  model_max_length?: unknown;
}

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

async function readJsonIfPresent(file: string): Promise<TokenizerConfigJson | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  return parsed !== null && typeof parsed === 'object' ? (parsed as TokenizerConfigJson) : undefined;
}

/** Parses merges.txt: optional "#version" header, then one "a b" pair per line. */
export function parseMerges(text: string): Array<[string, string]> {
  const merges: Array<[string, string]> = [];
  const lines = text.split(/\r?\n/u);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (i === 0 && line.startsWith('#version')) continue;
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const parts = trimmed.split(/\s+/u);
    if (parts.length !== 2) throw new Error(`merges.txt line ${i + 1}: expected two symbols, got ${JSON.stringify(line)}`);
    merges.push([parts[0]!, parts[1]!]);
  }
  return merges;
}

export class ClipTokenizer {
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  readonly unkTokenId: number;
  readonly modelMaxLength: number;
  readonly vocabSize: number;

  private readonly encoder: Map<string, number>;
  private readonly decoder: string[];
  /** Rank of each merge, keyed "first second" (symbols never contain a space). */
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, readonly number[]>();
  private readonly cacheSize: number;
  private readonly specialIds: Map<string, number>;

  constructor(vocab: Record<string, number>, merges: ReadonlyArray<readonly [string, string]>, options: ClipTokenizerOptions = {}) {
    this.encoder = new Map(Object.entries(vocab));
    this.decoder = [];
    for (const [tok, id] of this.encoder) this.decoder[id] = tok;
    this.vocabSize = this.encoder.size;
    this.ranks = new Map();
    merges.forEach(([a, b], i) => {
      const key = `${a} ${b}`;
      if (!this.ranks.has(key)) this.ranks.set(key, i);
    });

    const bos = options.bosToken ?? CLIP_BOS_TOKEN;
    const eos = options.eosToken ?? CLIP_EOS_TOKEN;
    const idOf = (tok: string, what: string): number => {
      const id = this.encoder.get(tok);
      if (id === undefined) throw new Error(`ClipTokenizer: ${what} ${JSON.stringify(tok)} is not in the vocabulary`);
      return id;
    };
    this.bosTokenId = idOf(bos, 'bos token');
    this.eosTokenId = idOf(eos, 'eos token');
    this.unkTokenId = options.unkToken !== undefined ? idOf(options.unkToken, 'unk token') : this.eosTokenId;
    if (options.padTokenId !== undefined) {
      if (!Number.isInteger(options.padTokenId) || options.padTokenId < 0) throw new Error(`ClipTokenizer: bad padTokenId ${options.padTokenId}`);
      this.padTokenId = options.padTokenId;
    } else if (options.padToken !== undefined) {
      this.padTokenId = idOf(options.padToken, 'pad token');
    } else {
      this.padTokenId = this.eosTokenId;
    }
    const maxLen = options.modelMaxLength ?? CLIP_MODEL_MAX_LENGTH;
    if (!Number.isInteger(maxLen) || maxLen < 2) throw new Error(`ClipTokenizer: bad modelMaxLength ${maxLen}`);
    this.modelMaxLength = maxLen;
    this.cacheSize = options.cacheSize ?? 50_000;
    // CLIP seeds its BPE cache with the two special tokens: typed in a prompt they map to their ids.
    this.specialIds = new Map();
    for (const tok of [CLIP_BOS_TOKEN, CLIP_EOS_TOKEN]) {
      const id = this.encoder.get(tok);
      if (id !== undefined) this.specialIds.set(tok, id);
    }
  }

  /** Loads vocab.json and merges.txt. */
  static async fromFiles(vocabJsonPath: string, mergesTxtPath: string, options: ClipTokenizerOptions = {}): Promise<ClipTokenizer> {
    const [vocabText, mergesText] = await Promise.all([readFile(vocabJsonPath, 'utf8'), readFile(mergesTxtPath, 'utf8')]);
    const vocab = JSON.parse(vocabText) as Record<string, number>;
    return new ClipTokenizer(vocab, parseMerges(mergesText), options);
  }

  /**
   * Loads a diffusers-style `tokenizer/` folder: vocab.json, merges.txt, and when present
   * tokenizer_config.json / special_tokens_map.json (bos/eos/pad/unk tokens, model_max_length).
   * special_tokens_map.json wins over tokenizer_config.json, as in transformers.
   */
  static async fromDirectory(tokenizerDir: string, overrides: ClipTokenizerOptions = {}): Promise<ClipTokenizer> {
    const [config, specialMap] = await Promise.all([
      readJsonIfPresent(path.join(tokenizerDir, 'tokenizer_config.json')),
      readJsonIfPresent(path.join(tokenizerDir, 'special_tokens_map.json')),
    ]);
    const pick = (key: 'bos_token' | 'eos_token' | 'pad_token' | 'unk_token'): string | undefined =>
      tokenContent(specialMap?.[key]) ?? tokenContent(config?.[key]);
    const options: ClipTokenizerOptions = {};
    const bos = pick('bos_token');
    const eos = pick('eos_token');
    const pad = pick('pad_token');
    const unk = pick('unk_token');
    if (bos !== undefined) options.bosToken = bos;
    if (eos !== undefined) options.eosToken = eos;
    if (pad !== undefined) options.padToken = pad;
    if (unk !== undefined) options.unkToken = unk;
    const maxLen = config?.model_max_length;
    // Some configs hold a huge sentinel (int(1e30)) meaning "unset".
    if (typeof maxLen === 'number' && Number.isInteger(maxLen) && maxLen >= 2 && maxLen <= 1_000_000) options.modelMaxLength = maxLen;
    return ClipTokenizer.fromFiles(path.join(tokenizerDir, 'vocab.json'), path.join(tokenizerDir, 'merges.txt'), { ...options, ...overrides });
  }

  /** CLIP's clean-up + pre-tokenization: the words BPE runs on (before the byte mapping). */
  preTokenize(text: string): string[] {
    const cleaned = clipClean(text);
    return cleaned.match(PRETOKENIZE_RE) ?? [];
  }

  /** BPE ids of the text, without start/end tokens and without truncation. */
  encode(text: string): number[] {
    const ids: number[] = [];
    const cleaned = clipClean(text);
    if (cleaned === '') return ids;
    PRETOKENIZE_RE.lastIndex = 0;
    for (let m = PRETOKENIZE_RE.exec(cleaned); m !== null; m = PRETOKENIZE_RE.exec(cleaned)) {
      const word = m[0];
      const special = this.specialIds.get(word);
      if (special !== undefined) {
        ids.push(special);
        continue;
      }
      const cached = this.cache.get(word);
      if (cached !== undefined) {
        for (const id of cached) ids.push(id);
        continue;
      }
      const wordIds = this.bpeIds(toByteLevel(word));
      if (this.cache.size >= this.cacheSize) this.cache.clear();
      this.cache.set(word, wordIds);
      for (const id of wordIds) ids.push(id);
    }
    return ids;
  }

  /**
   * The text encoder's input: start token, at most modelMaxLength-2 BPE ids, end token, padded with
   * padTokenId to exactly modelMaxLength ids (CLIP truncation).
   */
  encodeForModel(text: string): number[] {
    return this.wrap(this.encode(text));
  }

  /** [bos, ...ids (cut to modelMaxLength-2), eos, pad...] of length modelMaxLength. */
  wrap(ids: readonly number[]): number[] {
    const max = this.modelMaxLength;
    const body = ids.length > max - 2 ? ids.slice(0, max - 2) : ids;
    const out = new Array<number>(max);
    out[0] = this.bosTokenId;
    for (let i = 0; i < body.length; i++) out[i + 1] = body[i]!;
    out[body.length + 1] = this.eosTokenId;
    for (let i = body.length + 2; i < max; i++) out[i] = this.padTokenId;
    return out;
  }

  /** The vocabulary string of an id (byte-level form, '</w>' marks a word end), or undefined. */
  idToToken(id: number): string | undefined {
    return this.decoder[id];
  }

  /** The id of a vocabulary string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.encoder.get(token);
  }

  /** Readable text of one token: bytes decoded, '</w>' shown as a trailing space. */
  tokenText(id: number): string {
    return this.decode([id]);
  }

  /** CLIP's decode: ids back to text (word ends become spaces; invalid UTF-8 becomes U+FFFD). */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    const flush = (s: string): void => {
      for (const ch of s) {
        const b = UNICODE_TO_BYTE.get(ch);
        if (b !== undefined) bytes.push(b);
        else for (const x of new TextEncoder().encode(ch)) bytes.push(x);
      }
    };
    for (const id of ids) {
      const tok = this.decoder[id];
      if (tok === undefined) continue;
      if (this.specialIds.has(tok)) {
        for (const x of new TextEncoder().encode(tok)) bytes.push(x);
        continue;
      }
      if (tok.endsWith(END_OF_WORD)) {
        flush(tok.slice(0, -END_OF_WORD.length));
        bytes.push(0x20);
      } else {
        flush(tok);
      }
    }
    return new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(bytes));
  }

  /** Number of words currently in the BPE cache. */
  get cachedWords(): number {
    return this.cache.size;
  }

  clearCache(): void {
    this.cache.clear();
  }

  /** BPE of one byte-level word (CLIP: the last symbol carries '</w>'), as ids. */
  private bpeIds(token: string): number[] {
    const symbols = this.bpe(token);
    const ids = new Array<number>(symbols.length);
    for (let i = 0; i < symbols.length; i++) ids[i] = this.encoder.get(symbols[i]!) ?? this.unkTokenId;
    return ids;
  }

  private bpe(token: string): string[] {
    // Byte-level characters are all in the BMP, so UTF-16 units are code points here.
    const n = token.length;
    if (n === 0) return [];
    if (n === 1) return [token + END_OF_WORD];
    if (n > LONG_WORD) {
      const fast = this.bpeHeap(token);
      if (fast !== undefined) return fast;
    }
    return this.bpeSimple(token);
  }

  /**
   * CLIP's algorithm as written: repeatedly take the adjacent pair of lowest merge rank and merge
   * every (non-overlapping, left to right) occurrence of it. Quadratic in the word length.
   */
  private bpeSimple(token: string): string[] {
    const n = token.length;
    let word: string[] = new Array<string>(n);
    for (let i = 0; i < n - 1; i++) word[i] = token[i]!;
    word[n - 1] = token[n - 1]! + END_OF_WORD;

    const ranks = this.ranks;
    while (word.length > 1) {
      // The pair of lowest rank (ranks are unique, so the pair is unique too).
      let bestRank = Infinity;
      let first = '';
      let second = '';
      for (let i = 0; i < word.length - 1; i++) {
        const r = ranks.get(word[i]! + ' ' + word[i + 1]!);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          first = word[i]!;
          second = word[i + 1]!;
        }
      }
      if (bestRank === Infinity) break;
      // Merge every occurrence, left to right, without overlaps.
      const merged: string[] = [];
      let i = 0;
      while (i < word.length) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    return word;
  }

  /**
   * The same result in O(n log n) for long words: a heap of candidate pairs ordered by (rank,
   * position) over a linked list of symbols. Popping the equal-rank occurrences left to right is
   * exactly CLIP's "merge every occurrence" pass, because a merged symbol can never form the pair it
   * came from again. If a merge creates a pair of lower rank than the one being merged (impossible
   * with merges learned by BPE, but possible in a hand-made file) the pass semantics could differ,
   * so this returns undefined and the caller uses the literal algorithm.
   */
  private bpeHeap(token: string): string[] | undefined {
    const n = token.length;
    if (n >= POS_SCALE) return undefined;
    const ranks = this.ranks;
    const sym: string[] = new Array<string>(n);
    for (let i = 0; i < n - 1; i++) sym[i] = token[i]!;
    sym[n - 1] = token[n - 1]! + END_OF_WORD;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const alive = new Uint8Array(n).fill(1);
    const heap = new MinHeap();
    for (let i = 0; i < n - 1; i++) {
      const r = ranks.get(sym[i]! + ' ' + sym[i + 1]!);
      if (r !== undefined) heap.push(r * POS_SCALE + i);
    }
    let current = -1;
    while (heap.size > 0) {
      const key = heap.pop();
      const rank = Math.floor(key / POS_SCALE);
      const left = key - rank * POS_SCALE;
      if (alive[left] === 0) continue;
      const right = next[left]!;
      if (right < 0) continue;
      if (ranks.get(sym[left]! + ' ' + sym[right]!) !== rank) continue; // stale entry
      current = rank;
      sym[left] = sym[left]! + sym[right]!;
      alive[right] = 0;
      const after = next[right]!;
      next[left] = after;
      if (after >= 0) prev[after] = left;
      const before = prev[left]!;
      if (before >= 0) {
        const r = ranks.get(sym[before]! + ' ' + sym[left]!);
        if (r !== undefined) {
          if (r < current) return undefined;
          heap.push(r * POS_SCALE + before);
        }
      }
      if (after >= 0) {
        const r = ranks.get(sym[left]! + ' ' + sym[after]!);
        if (r !== undefined) {
          if (r < current) return undefined;
          heap.push(r * POS_SCALE + left);
        }
      }
    }
    const out: string[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(sym[i]!);
    return out;
  }
}

