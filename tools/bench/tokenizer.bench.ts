// Tokenizer throughput: `npx tsx tools/bench/tokenizer.bench.ts [--prompts N] [--rounds R]`
// Uses the SD 1.x CLIP tokenizer in ../shared/clip-tokenizer (beside the checkout) and a seeded,
// realistic mix of prompts (tags, sentences, A1111 emphasis, BREAK, long prompts, some non-ASCII).
// Prints one JSON line: {"bench":"tokenizer", ...}.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ClipTokenizer } from '../../src-main/engine/tokenizer/index.js';
import { tokenizePrompt } from '../../src-main/engine/prompt/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tokenizerDir = path.resolve(repoRoot, '../shared/clip-tokenizer');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const promptCount = arg('--prompts', 2000);
const rounds = arg('--rounds', 5);

// Small deterministic PRNG (mulberry32).
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SUBJECTS = [
  'a photo of an astronaut riding a horse on mars', 'portrait of a young woman with freckles', 'a cozy cabin in a snowy forest',
  'cyberpunk street market at night', 'an ancient dragon sleeping on gold', 'still life of lemons and a copper kettle',
  'a corgi wearing a tiny wizard hat', 'futuristic city skyline at dusk', 'underwater temple with glowing jellyfish',
  'samurai standing in the rain', 'isometric diorama of a tiny library', 'steampunk airship above the clouds',
];
const TAGS = [
  'masterpiece', 'best quality', 'highly detailed', '8k', 'uhd', 'sharp focus', 'cinematic lighting', 'volumetric fog',
  'octane render', 'unreal engine 5', 'trending on artstation', 'by greg rutkowski', 'by alphonse mucha', 'oil painting',
  'watercolor', 'digital art', 'concept art', 'bokeh', 'depth of field', 'golden hour', 'rim lighting', 'film grain',
  'photorealistic', 'hyperrealistic', 'intricate details', '1girl', 'solo', 'looking at viewer', 'smile', 'long hair',
  'studio ghibli style', 'art nouveau', 'low poly', 'f/1.8', '35mm', 'dslr', 'award winning', 'dramatic shadows',
  'café terrace', 'crème brûlée', '東京の夜', '猫', '✨', '🌸', '“dreamy”', 'naïve art', 'Zürich', 'ﬁne line art',
];
const NEGATIVE = 'lowres, bad anatomy, bad hands, text, error, missing fingers, extra digit, fewer digits, cropped, worst quality, low quality, jpeg artifacts, signature, watermark, blurry';

function makePrompts(n: number, seed: number): string[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const kind = r();
    if (kind < 0.1) {
      out.push(NEGATIVE);
      continue;
    }
    const parts = [pick(SUBJECTS)];
    const tagCount = kind < 0.85 ? 3 + Math.floor(r() * 12) : 30 + Math.floor(r() * 40); // some long prompts
    for (let t = 0; t < tagCount; t++) {
      let tag = pick(TAGS);
      const w = r();
      if (w < 0.1) tag = `(${tag})`;
      else if (w < 0.15) tag = `((${tag}))`;
      else if (w < 0.2) tag = `[${tag}]`;
      else if (w < 0.3) tag = `(${tag}:${(0.5 + r()).toFixed(1)})`;
      parts.push(tag);
    }
    if (r() < 0.05) parts.splice(1 + Math.floor(r() * (parts.length - 1)), 0, 'BREAK');
    out.push(parts.join(', ').replace(', BREAK,', ' BREAK'));
  }
  return out;
}

function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

const loadStart = performance.now();
const tokenizer = await ClipTokenizer.fromDirectory(tokenizerDir);
const loadMs = performance.now() - loadStart;

const prompts = makePrompts(promptCount, 1234);
const uniquePrompts = new Set(prompts).size;
let tokens = 0;

// JIT warm-up on other prompts, so that "cold" measures an empty BPE cache, not V8 compiling.
const firstPassStart = performance.now();
for (const p of makePrompts(500, 99)) tokenizer.encode(p);
const firstPassMs = performance.now() - firstPassStart;

// Cold: empty BPE cache, every prompt once.
tokenizer.clearCache();
let t0 = performance.now();
for (const p of prompts) tokens += tokenizer.encode(p).length;
const coldMs = performance.now() - t0;

// Warm: BPE cache filled, several rounds over the same prompts.
t0 = performance.now();
for (let r = 0; r < rounds; r++) for (const p of prompts) tokenizer.encode(p);
const warmMs = (performance.now() - t0) / rounds;

// encodeForModel (77 ids) and A1111-style chunking with weights, warm.
t0 = performance.now();
for (const p of prompts) tokenizer.encodeForModel(p);
const modelMs = performance.now() - t0;
t0 = performance.now();
for (const p of prompts) tokenizePrompt(tokenizer, p);
const chunkMs = performance.now() - t0;

console.log(
  JSON.stringify({
    bench: 'tokenizer',
    prompts: prompts.length,
    uniquePrompts,
    avgTokensPerPrompt: Math.round((tokens / prompts.length) * 10) / 10,
    loadMs: Math.round(loadMs),
    firstPassPromptsPerSec: rate(500, firstPassMs),
    coldPromptsPerSec: rate(prompts.length, coldMs),
    warmPromptsPerSec: rate(prompts.length, warmMs),
    warmTokensPerSec: rate(tokens, warmMs),
    encodeForModelPromptsPerSec: rate(prompts.length, modelMs),
    tokenizePromptPerSec: rate(prompts.length, chunkMs),
    cachedWords: tokenizer.cachedWords,
    node: process.version,
  }),
);
