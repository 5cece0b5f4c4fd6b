// Tiled VAE decode / encode against diffusers' own tiled_decode and _tiled_encode.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModel, type StableDiffusionModel } from '../../../src-main/engine/model/index.js';
import { needsTiling, tiledDecode, tiledEncode, tileCount, vaeTileSizes, type Planar } from '../../../src-main/engine/pipeline/vae-tiling.js';
import { repoRoot } from '../../helpers/shared.js';

// tools/reference/make_vae_tiling_fixture.py ran diffusers' AutoencoderKL.tiled_decode / _tiled_encode /
// blend_v / blend_h (source at huggingface/diffusers 58eb52c, unchanged, with torch 1.13) with the stand-in
// decoder and encoder below; the same stand-ins run here. Tiles: sample 64, latent 8 (tiny-sd15's VAE).
const fixture = (name: string) => {
  const buf = readFileSync(path.join(repoRoot, 'tests/fixtures/vae-tiling', name));
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
};

function pattern(channels: number, height: number, width: number): Planar {
  const data = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[(c * height + y) * width + x] = ((c * 7 + y * 3 + x * 5) % 23) / 8 - 1;
  return { data, channels, height, width };
}

async function fakeDecoder(z: Planar): Promise<Float32Array> {
  const H = z.height * 8;
  const W = z.width * 8;
  const out = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const v = z.data[((c % 4) * z.height + (y >> 3)) * z.width + (x >> 3)]!;
        out[(c * H + y) * W + x] = Math.fround(Math.fround(v + ((y + 2 * x) % 17) / 16) + c / 4);
      }
  return out;
}

async function fakeEncoder(p: Planar): Promise<Float32Array> {
  const h = p.height / 8;
  const w = p.width / 8;
  const out = new Float32Array(8 * h * w);
  for (let k = 0; k < 8; k++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) out[(k * h + y) * w + x] = Math.fround(p.data[((k % 3) * p.height + 8 * y) * p.width + 8 * x]! + ((y + 2 * x + k) % 17) / 16);
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('VAE tiling matches diffusers', () => {
  it('uses diffusers tile sizes', () => {
    expect(vaeTileSizes(512)).toEqual({ sampleTile: 512, latentTile: 64 });
    expect(vaeTileSizes(1024)).toEqual({ sampleTile: 1024, latentTile: 128 });
    expect(vaeTileSizes(64)).toEqual({ sampleTile: 64, latentTile: 8 });
    // range(0, 256, 48) at 2048² with SD 1.5's 64-latent tiles
    expect(tileCount(256, 64)).toBe(6);
    // diffusers tiles only above one tile (and a tiled run of exactly one tile would still use 2 × 2)
    expect(needsTiling(8, 8, 8)).toBe(false);
    expect(needsTiling(8, 9, 8)).toBe(true);
    expect(tileCount(8, 8)).toBe(2);
  });

  it('tiled decode equals diffusers tiled_decode (max |Δ| ≤ 1e-6)', async () => {
    let tiles = 0;
    const out = await tiledDecode(pattern(4, 11, 17), 8, 3, (t) => (tiles++, fakeDecoder(t)));
    expect([out.channels, out.height, out.width]).toEqual([3, 88, 136]);
    expect(tiles).toBe(2 * 3);
    expect(maxAbsDiff(out.data, fixture('decoded-1x3x88x136.f32'))).toBeLessThanOrEqual(1e-6);
  });

  it('tiled encode equals diffusers _tiled_encode on the moments (max |Δ| ≤ 1e-6)', async () => {
    const out = await tiledEncode(pattern(3, 88, 136), 64, 8, fakeEncoder);
    expect([out.channels, out.height, out.width]).toEqual([8, 11, 17]);
    expect(maxAbsDiff(out.data, fixture('moments-1x8x11x17.f32'))).toBeLessThanOrEqual(1e-6);
  });

  it('the blending matters: without it the result differs from the fixture', async () => {
    // A stand-in whose tiles agree everywhere would pass with any blend weights; this one does not.
    const out = await tiledDecode(pattern(4, 11, 17), 8, 3, fakeDecoder);
    const unblended = await fakeDecoder(pattern(4, 11, 17));
    expect(maxAbsDiff(out.data, unblended)).toBeGreaterThan(0.1);
  });
});

describe('VAE tiling on tiny-sd15', () => {
  let model: StableDiffusionModel;
  beforeAll(async () => {
    model = await openModel(path.join(repoRoot, 'tests/models/tiny-sd15'));
  });
  afterAll(async () => model.dispose());

  it('each kept tile interior is that tile decoded alone', async () => {
    // 16×16 latents → 3×3 tiles at (0, 6, 12); tile (0,0) is kept unblended over [0, 48)², tile (1,1)
    // over [64, 96)² of the image (its blended band is its first 16 rows and columns).
    const z = pattern(4, 16, 16);
    const tiled = await tiledDecode(z, 8, 3, (t) => model.decodeLatents(t.data, 1, t.height, t.width));
    const alone = async (top: number, left: number) => {
      const t: Planar = { data: new Float32Array(4 * 64), channels: 4, height: 8, width: 8 };
      for (let c = 0; c < 4; c++) for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) t.data[(c * 8 + y) * 8 + x] = z.data[(c * 16 + top + y) * 16 + left + x]!;
      return model.decodeLatents(t.data, 1, 8, 8);
    };
    const region = (img: Float32Array, W: number, y0: number, x0: number, size: number, oy: number, ox: number, tileW: number) => {
      const a: number[] = [];
      const b: number[] = [];
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < size; y++)
          for (let x = 0; x < size; x++) {
            a.push(tiled.data[(c * tiled.height + y0 + y) * W + x0 + x]!);
            b.push(img[(c * 64 + oy + y) * tileW + ox + x]!);
          }
      return [a, b];
    };
    const t00 = await alone(0, 0);
    const [a0, b0] = region(t00, 128, 0, 0, 48, 0, 0, 64);
    expect(a0).toEqual(b0);
    const t11 = await alone(6, 6);
    const [a1, b1] = region(t11, 128, 64, 64, 32, 16, 16, 64);
    expect(a1).toEqual(b1);
  });
});
