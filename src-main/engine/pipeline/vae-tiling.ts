// Tiled VAE decode and encode, as diffusers' AutoencoderKL does with enable_vae_tiling (tiled_decode,
// _tiled_encode, blend_v, blend_h): overlapping tiles run through the VAE one at a time, each blended
// linearly into the tile above and the tile to its left over a quarter of a tile, then cropped and placed.
// The VAE's largest activations (the mid-block attention, tokens², and the full-size convolutions) then
// grow with the tile, not with the image. Same tile sizes and blending as diffusers, so the result can be
// checked against it (tests/engine/pipeline/vae-tiling.test.ts).

/** A batch-1 NCHW float32 tensor. */
export interface Planar {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** The VAE's spatial downscale: 2^(len(block_out_channels) − 1), 8 for every SD / SDXL VAE. */
export const VAE_DOWNSCALE = 8;
/** diffusers' tile_overlap_factor. */
const OVERLAP_FACTOR = 0.25;

/** A VAE's tile sizes: pixels (diffusers' tile_sample_min_size) and latents (tile_latent_min_size). */
export interface VaeTiles {
  sampleTile: number;
  latentTile: number;
}

/**
 * Tile sizes of a VAE whose config says `sample_size` (diffusers: tile_sample_min_size = sample_size,
 * tile_latent_min_size = sample_size / 8). Sizes that are not a multiple of 32 are rounded down to one, so
 * that the cropped tiles add up to the image exactly (diffusers assumes this; every released VAE has it).
 */
export function vaeTileSizes(sampleSize: number): VaeTiles {
  const sampleTile = Math.max(32, Math.floor(sampleSize / 32) * 32);
  return { sampleTile, latentTile: sampleTile / VAE_DOWNSCALE };
}

/** diffusers tiles a decode when the latents exceed a latent tile on either side, an encode likewise in pixels. */
export function needsTiling(height: number, width: number, tile: number): boolean {
  return height > tile || width > tile;
}

/** How many tiles a side of `size` splits into with tiles of `tile` (diffusers: range(0, size, overlap)). */
export function tileCount(size: number, tile: number): number {
  return Math.ceil(size / Math.floor(tile * (1 - OVERLAP_FACTOR)));
}

/** Runs one tile through the VAE: a [1, C, h, w] input of the tile's size → [1, C', h·scale, w·scale]. */
export type TileRunner = (tile: Planar) => Promise<Float32Array>;

/** latents [1, C, h, w] → image [1, outChannels, 8h, 8w] (diffusers' tiled_decode). */
export function tiledDecode(latents: Planar, latentTile: number, outChannels: number, decodeTile: TileRunner): Promise<Planar> {
  const sampleTile = latentTile * VAE_DOWNSCALE;
  return runTiled(latents, {
    inTile: latentTile,
    step: Math.floor(latentTile * (1 - OVERLAP_FACTOR)),
    blendExtent: Math.floor(sampleTile * OVERLAP_FACTOR),
    rowLimit: sampleTile - Math.floor(sampleTile * OVERLAP_FACTOR),
    outChannels,
    outSize: (n) => n * VAE_DOWNSCALE,
    run: decodeTile,
  });
}

/**
 * image [1, C, H, W] → the encoder's moments [1, outChannels, H/8, W/8] (diffusers' _tiled_encode: the
 * moments are blended, and the Gaussian is sampled afterwards from the blended mean and log-variance).
 */
export function tiledEncode(pixels: Planar, sampleTile: number, outChannels: number, encodeTile: TileRunner): Promise<Planar> {
  const latentTile = sampleTile / VAE_DOWNSCALE;
  return runTiled(pixels, {
    inTile: sampleTile,
    step: Math.floor(sampleTile * (1 - OVERLAP_FACTOR)),
    blendExtent: Math.floor(latentTile * OVERLAP_FACTOR),
    rowLimit: latentTile - Math.floor(latentTile * OVERLAP_FACTOR),
    outChannels,
    outSize: (n) => n / VAE_DOWNSCALE,
    run: encodeTile,
  });
}

interface TiledRun {
  inTile: number;
  step: number;
  blendExtent: number;
  rowLimit: number;
  outChannels: number;
  outSize: (inputSize: number) => number;
  run: TileRunner;
}

/**
 * The row/column loop of diffusers: tile (i, j) starts at (i·step, j·step) and is blended, in place, with the
 * already blended full tile above it and then the already blended full tile to its left; its top-left
 * rowLimit × rowLimit is kept. Only the previous row of tiles is held, not all of them.
 */
async function runTiled(input: Planar, o: TiledRun): Promise<Planar> {
  const { channels: C, height: H, width: W } = input;
  const outH = o.outSize(H);
  const outW = o.outSize(W);
  const out: Planar = { data: new Float32Array(o.outChannels * outH * outW), channels: o.outChannels, height: outH, width: outW };
  let above: Planar[] = [];
  let outY = 0;
  for (let i = 0; i < H; i += o.step) {
    const row: Planar[] = [];
    let outX = 0;
    let keptH = 0;
    for (let j = 0, col = 0; j < W; j += o.step, col++) {
      const th = Math.min(o.inTile, H - i);
      const tw = Math.min(o.inTile, W - j);
      const tile: Planar = { data: await o.run(crop(input, i, j, th, tw)), channels: o.outChannels, height: o.outSize(th), width: o.outSize(tw) };
      if (tile.data.length !== o.outChannels * tile.height * tile.width) {
        throw new RangeError(`a ${tw}×${th} tile gave ${tile.data.length} values, expected ${o.outChannels}×${tile.height}×${tile.width}`);
      }
      if (above.length) blendVertical(above[col]!, tile, o.blendExtent);
      if (col > 0) blendHorizontal(row[col - 1]!, tile, o.blendExtent);
      row.push(tile);
      const keepH = Math.min(o.rowLimit, tile.height);
      const keepW = Math.min(o.rowLimit, tile.width);
      place(out, tile, outY, outX, keepH, keepW);
      outX += keepW;
      keptH = keepH;
    }
    if (outX !== outW) throw new RangeError(`tiles covered ${outX} of ${outW} columns`);
    outY += keptH;
    above = row;
  }
  if (outY !== outH) throw new RangeError(`tiles covered ${outY} of ${outH} rows`);
  return out;
}

function crop(src: Planar, top: number, left: number, h: number, w: number): Planar {
  const data = new Float32Array(src.channels * h * w);
  for (let c = 0; c < src.channels; c++) {
    for (let y = 0; y < h; y++) {
      const from = (c * src.height + top + y) * src.width + left;
      data.set(src.data.subarray(from, from + w), (c * h + y) * w);
    }
  }
  return { data, channels: src.channels, height: h, width: w };
}

function place(dst: Planar, tile: Planar, top: number, left: number, h: number, w: number): void {
  for (let c = 0; c < tile.channels; c++) {
    for (let y = 0; y < h; y++) {
      const from = (c * tile.height + y) * tile.width;
      dst.data.set(tile.data.subarray(from, from + w), (c * dst.height + top + y) * dst.width + left);
    }
  }
}

// b[y] = a[−extent + y]·(1 − y/extent) + b[y]·(y/extent), in float32 as torch computes it.
function blendWeights(extent: number, k: number): [number, number] {
  return [Math.fround(1 - k / extent), Math.fround(k / extent)];
}

/** diffusers' blend_v: the top rows of `b` fade in from the bottom rows of `a` (in place on b). */
export function blendVertical(a: Planar, b: Planar, blendExtent: number): void {
  const extent = Math.min(a.height, b.height, blendExtent);
  for (let c = 0; c < b.channels; c++) {
    for (let y = 0; y < extent; y++) {
      const [wa, wb] = blendWeights(extent, y);
      const rowA = (c * a.height + a.height - extent + y) * a.width;
      const rowB = (c * b.height + y) * b.width;
      for (let x = 0; x < b.width; x++) {
        b.data[rowB + x] = Math.fround(Math.fround(a.data[rowA + x]! * wa) + Math.fround(b.data[rowB + x]! * wb));
      }
    }
  }
}

/** diffusers' blend_h: the left columns of `b` fade in from the right columns of `a` (in place on b). */
export function blendHorizontal(a: Planar, b: Planar, blendExtent: number): void {
  const extent = Math.min(a.width, b.width, blendExtent);
  for (let c = 0; c < b.channels; c++) {
    for (let y = 0; y < b.height; y++) {
      const rowA = (c * a.height + y) * a.width + a.width - extent;
      const rowB = (c * b.height + y) * b.width;
      for (let x = 0; x < extent; x++) {
        const [wa, wb] = blendWeights(extent, x);
        b.data[rowB + x] = Math.fround(Math.fround(a.data[rowA + x]! * wa) + Math.fround(b.data[rowB + x]! * wb));
      }
    }
  }
}
