// Reading generation metadata back from a PNG: our JSON request chunk and/or A1111's infotext.
import { parseInfotext, type ParsedInfotext } from './infotext.js';
import { readPngText } from './png.js';

/** The iTXt keyword of the JSON request Latent Studio writes into every PNG. */
export const REQUEST_CHUNK_KEY = 'latent-studio';
/** The tEXt/iTXt keyword AUTOMATIC1111 (and tools copying it) use for the infotext. */
export const INFOTEXT_CHUNK_KEY = 'parameters';

export interface ImageMetadata {
  /** The raw `parameters` text, when present. */
  parameters?: string;
  /** `parameters` parsed as A1111 infotext. */
  infotext?: ParsedInfotext;
  /** Our JSON request (as written by generate), when present and valid JSON. */
  request?: Record<string, unknown>;
  /** Every text chunk, keyword → text. */
  text: Record<string, string>;
}

export function readImageMetadata(png: Uint8Array): ImageMetadata {
  const text = readPngText(png);
  const out: ImageMetadata = { text };
  const parameters = text[INFOTEXT_CHUNK_KEY];
  if (parameters !== undefined) {
    out.parameters = parameters;
    out.infotext = parseInfotext(parameters);
  }
  const json = text[REQUEST_CHUNK_KEY];
  if (json !== undefined) {
    try {
      const v = JSON.parse(json) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) out.request = v as Record<string, unknown>;
    } catch {
      // not ours / damaged: ignore
    }
  }
  return out;
}
