// Limits on a PNG's text metadata, shared by the engine's reader (png.ts) and the gallery's (png-lite.ts).
// A zTXt/iTXt chunk of a few hundred bytes can inflate to gigabytes, and every parser after it (infotext,
// JSON graphs) runs on what comes out: the caps keep the work per file small enough to run anywhere.
import { inflateSync } from 'node:zlib';

/** One text value (one chunk's text, after inflating). ComfyUI's biggest workflows are a few hundred KB. */
export const MAX_TEXT_VALUE_BYTES = 1024 * 1024;
/** All text chunks of one file together: bounds the parsing work per file (a few hundred ms at worst, measured). */
export const MAX_TEXT_TOTAL_BYTES = 3 * 1024 * 1024;
/** Text chunks in one file (tools write a handful). */
export const MAX_TEXT_CHUNKS = 256;

export class TextLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TextLimitError';
  }
}

/** Counts the text bytes a file's chunks produce; throws TextLimitError past the caps. */
export class TextBudget {
  private used = 0;
  private chunks = 0;

  /** Room for the next value: the per-value cap or what is left of the total, whichever is smaller. */
  get room(): number {
    return Math.min(MAX_TEXT_VALUE_BYTES, MAX_TEXT_TOTAL_BYTES - this.used);
  }

  /** Counts one text value of `bytes` (called once per chunk). */
  take(bytes: number, keyword: string): void {
    if (bytes > this.room || ++this.chunks > MAX_TEXT_CHUNKS) throw this.tooLarge(keyword);
    this.used += bytes;
  }

  /** Inflates a zTXt/iTXt body, stopping (TextLimitError) as soon as the output would pass the room left. */
  inflate(data: Uint8Array, keyword: string): Buffer {
    let out: Buffer;
    try {
      out = inflateSync(data, { maxOutputLength: Math.max(1, this.room) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw this.tooLarge(keyword);
      throw error;
    }
    this.take(out.length, keyword);
    return out;
  }

  private tooLarge(keyword: string): TextLimitError {
    return new TextLimitError(
      `PNG text chunk "${keyword.slice(0, 79)}" is too large (limits: ${MAX_TEXT_VALUE_BYTES >> 20} MiB per chunk, ${MAX_TEXT_TOTAL_BYTES >> 20} MiB and ${MAX_TEXT_CHUNKS} text chunks per file); its metadata was not read.`,
    );
  }
}
