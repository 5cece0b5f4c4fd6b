// `latent-studio tokenize --model DIR "text"`: how the engine splits a prompt into CLIP tokens.
import { ClipTokenizer, findTokenizerDir } from '../../engine/tokenizer/index.js';
import { spellChunks, tokenizePrompt, type ChunkTokens } from '../../engine/prompt/index.js';
import { describeError, usageError } from '../errors.js';
import { modelDirOrDefault, resolveModelDir } from '../model-arg.js';

export interface TokenizeOptions {
  model?: string;
  json?: boolean;
  emphasis?: boolean;
  ids?: boolean;
}

/** The model's `tokenizer/` folder, or DIR itself when it holds vocab.json and merges.txt. */
export async function tokenizerDirOf(model: string): Promise<string> {
  const dir = await findTokenizerDir(await resolveModelDir(model));
  if (dir !== null) return dir;
  throw usageError(`--model '${model}': no tokenizer found (expected tokenizer/vocab.json and tokenizer/merges.txt)`);
}

export interface TokenizeReport {
  prompt: string;
  tokenizer: string;
  /** A1111's count: prompt tokens, each chunk before the last counting 75. */
  tokenCount: number;
  /** Prompt tokens per chunk (75 for CLIP). */
  perChunk: number;
  /** The counter's limit: 75 × chunks. */
  limit: number;
  chunks: ChunkTokens[];
}

export async function tokenizeText(model: string, text: string, options: { emphasis?: boolean } = {}): Promise<TokenizeReport> {
  const dir = await tokenizerDirOf(model);
  let tokenizer: ClipTokenizer;
  try {
    tokenizer = await ClipTokenizer.fromDirectory(dir);
  } catch (error) {
    throw usageError(`--model '${model}': cannot load the tokenizer: ${describeError(error)}`);
  }
  const result = tokenizePrompt(tokenizer, text, { emphasis: options.emphasis !== false });
  const perChunk = tokenizer.modelMaxLength - 2;
  return {
    prompt: text,
    tokenizer: dir,
    tokenCount: result.tokenCount,
    perChunk,
    limit: Math.ceil(Math.max(result.tokenCount, 1) / perChunk) * perChunk,
    chunks: spellChunks(tokenizer, result.chunks),
  };
}

function formatWeight(w: number): string {
  return Number.isInteger(w) ? w.toFixed(1) : String(Math.round(w * 10000) / 10000);
}

export function formatTokenizeReport(report: TokenizeReport, options: { ids?: boolean } = {}): string {
  const lines: string[] = [];
  const n = report.chunks.length;
  lines.push(`tokens: ${report.tokenCount}/${report.limit} (${n} chunk${n === 1 ? '' : 's'} of ${report.perChunk})`);
  report.chunks.forEach((chunk, c) => {
    lines.push(`chunk ${c + 1}/${n}: ${chunk.promptTokens} prompt token${chunk.promptTokens === 1 ? '' : 's'}`);
    const rows: string[][] = [];
    for (let i = 1; i <= chunk.promptTokens; i++) {
      rows.push([String(i), String(chunk.ids[i]), chunk.tokens[i] ?? '', formatWeight(chunk.weights[i] ?? 1)]);
    }
    if (rows.length > 0) {
      const header = ['#', 'id', 'token', 'weight'];
      const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
      const fmt = (r: string[]): string => '  ' + r.map((cell, k) => (k === 1 || k === 0 ? cell.padStart(widths[k]!) : cell.padEnd(widths[k]!))).join('  ').trimEnd();
      lines.push(fmt(header));
      for (const r of rows) lines.push(fmt(r));
    }
    if (options.ids) lines.push(`  ids: ${chunk.ids.join(' ')}`);
  });
  return lines.join('\n');
}

export async function runTokenize(text: string, options: TokenizeOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const model = await modelDirOrDefault(options.model);
  const report = await tokenizeText(model, text, { emphasis: options.emphasis !== false });
  out.write(options.json ? `${JSON.stringify(report)}\n` : `${formatTokenizeReport(report, { ids: options.ids === true })}\n`);
  return 0;
}
