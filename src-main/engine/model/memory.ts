// The shapes that decide how much memory a job needs, read from the diffusers configs beside the graphs
// (unet/config.json, vae_decoder/config.json). Missing or odd values fall back to SD 1.5's, the largest
// of the SD 1.x/2.x family at a given size, so an estimate made from them errs on the safe side.

type Json = Record<string, unknown>;

export interface UnetAttentionLevel {
  /** Latent downscale of the level: 1 at the latents' own resolution, then 2, 4, … */
  downscale: number;
  heads: number;
}

export interface ModelMemoryFacts {
  /** UNet block_out_channels, one per resolution level. */
  unetChannels: number[];
  /** Levels whose down block has (self-)attention, with its head count. */
  unetAttention: UnetAttentionLevel[];
  /** VAE block_out_channels (the encoder's order; the decoder runs them reversed). */
  vaeChannels: number[];
  /** VAE config sample_size: diffusers' tile size in pixels. */
  vaeSampleSize: number;
}

export const SD15_MEMORY_FACTS: ModelMemoryFacts = {
  unetChannels: [320, 640, 1280, 1280],
  unetAttention: [
    { downscale: 1, heads: 8 },
    { downscale: 2, heads: 8 },
    { downscale: 4, heads: 8 },
  ],
  vaeChannels: [128, 256, 512, 512],
  vaeSampleSize: 512,
};

const positiveInts = (v: unknown): number[] | null =>
  Array.isArray(v) && v.length > 0 && v.every((n) => Number.isInteger(n) && (n as number) > 0) ? (v as number[]) : null;
const positiveInt = (v: unknown): number | null => (Number.isInteger(v) && (v as number) > 0 ? (v as number) : null);

export function memoryFactsFrom(unet: Json | null | undefined, vae: Json | null | undefined): ModelMemoryFacts {
  const unetChannels = positiveInts(unet?.['block_out_channels']) ?? SD15_MEMORY_FACTS.unetChannels;
  const downTypes = Array.isArray(unet?.['down_block_types']) ? (unet['down_block_types'] as unknown[]) : null;
  // diffusers: num_attention_heads defaults to attention_head_dim, which SD 1.x/2.x/XL configs use as the head count.
  const headsCfg = unet?.['num_attention_heads'] ?? unet?.['attention_head_dim'];
  const headsAt = (i: number): number => positiveInt(headsCfg) ?? positiveInts(headsCfg)?.[i] ?? 8;
  const unetAttention = downTypes
    ? downTypes.flatMap((t, i) => (typeof t === 'string' && t.includes('Attn') ? [{ downscale: 2 ** i, heads: headsAt(i) }] : []))
    : SD15_MEMORY_FACTS.unetAttention;
  const vaeChannels = positiveInts(vae?.['block_out_channels']) ?? SD15_MEMORY_FACTS.vaeChannels;
  const size = vae?.['sample_size'];
  const vaeSampleSize = positiveInt(size) ?? positiveInts(size)?.[0] ?? SD15_MEMORY_FACTS.vaeSampleSize;
  return { unetChannels, unetAttention, vaeChannels, vaeSampleSize };
}
