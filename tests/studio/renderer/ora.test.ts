import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeOra, encodeOra, type OraDocument } from '../../../src-renderer/src/lib/files/ora.js';
import { MaskRaster } from '../../../src-renderer/src/lib/raster/mask-raster.js';
import type { RgbaRaster } from '../../../src-renderer/src/lib/raster/rgba-raster.js';
import { documentToOra, MASK_LAYER_NAME, oraToDocument } from '../../../src-renderer/src/lib/files/studio-ora.js';
import { nodePngCodec } from './png-codec.js';

/** Deterministic noise, alpha included: every byte value shows up. */
function noise(width: number, height: number, seed: number, opaque = false): RgbaRaster {
  const data = new Uint8ClampedArray(width * height * 4);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = opaque && i % 4 === 3 ? 255 : s >>> 24;
  }
  return { width, height, data };
}

const PARAMETERS = 'a red "fox" & <cat>, café ☕\nNegative prompt: blurry\nSteps: 4, Sampler: Euler a, CFG scale: 7, Seed: 1234567890, Size: 64x48';

function sampleDoc(): OraDocument {
  return {
    width: 64,
    height: 48,
    layers: [
      { name: 'Top & "glaze"', raster: noise(20, 10, 1), x: 5, y: 7, opacity: 0.5, visible: true },
      { name: 'Hidden', raster: noise(64, 48, 2), x: 0, y: 0, opacity: 1, visible: false },
      { name: 'Mask', raster: noise(64, 48, 3), x: 0, y: 0, opacity: 1, visible: false, role: 'mask' },
      { name: 'Image', raster: noise(64, 48, 4, true), x: 0, y: 0, opacity: 1, visible: true, parameters: PARAMETERS },
    ],
  };
}

const tmp = mkdtempSync(path.join(tmpdir(), 'ora-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('OpenRaster encode / decode', () => {
  it('reopens every layer pixel for pixel, with its attributes', async () => {
    const doc = sampleDoc();
    const back = await decodeOra(await encodeOra(doc, nodePngCodec), nodePngCodec);
    expect(back.width).toBe(64);
    expect(back.height).toBe(48);
    expect(back.layers.map((l) => l.name)).toEqual(doc.layers.map((l) => l.name));
    for (const [i, layer] of doc.layers.entries()) {
      const got = back.layers[i]!;
      expect(got.raster.width).toBe(layer.raster.width);
      expect(got.raster.height).toBe(layer.raster.height);
      expect(Buffer.from(got.raster.data).equals(Buffer.from(layer.raster.data))).toBe(true);
      expect({ x: got.x, y: got.y, opacity: got.opacity, visible: got.visible, role: got.role, parameters: got.parameters }).toEqual({
        x: layer.x,
        y: layer.y,
        opacity: layer.opacity,
        visible: layer.visible,
        role: layer.role,
        parameters: layer.parameters,
      });
    }
  });

  it('writes mergedimage.png (visible layers, not the mask) and a thumbnail of at most 256 px', async () => {
    const big: OraDocument = {
      width: 600,
      height: 300,
      layers: [
        { name: 'Mask', raster: noise(600, 300, 5), x: 0, y: 0, opacity: 1, visible: false, role: 'mask' },
        { name: 'Image', raster: noise(600, 300, 6, true), x: 0, y: 0, opacity: 1, visible: true },
      ],
    };
    const files = unzipSync(await encodeOra(big, nodePngCodec));
    const merged = await nodePngCodec.decode(files['mergedimage.png']!);
    expect(Buffer.from(merged.data).equals(Buffer.from(big.layers[1]!.raster.data))).toBe(true);
    const thumb = await nodePngCodec.decode(files['Thumbnails/thumbnail.png']!);
    expect([thumb.width, thumb.height]).toEqual([256, 128]);
  });

  it('rejects a zip that is not OpenRaster', async () => {
    const { zipSync, strToU8 } = await import('fflate');
    await expect(decodeOra(zipSync({ mimetype: strToU8('application/zip') }), nodePngCodec)).rejects.toThrow(/not an openraster/i);
  });

  it('the studio document (image, mask, generation) survives save and reopen pixel for pixel', async () => {
    const image = noise(64, 48, 7, true);
    const mask = new MaskRaster(64, 48);
    for (let i = 0; i < mask.data.length; i++) mask.data[i] = (i * 37) % 256;
    const ora = documentToOra({ width: 64, height: 48, image, mask }, PARAMETERS);
    expect(ora.layers.map((l) => [l.name, l.visible])).toEqual([
      [MASK_LAYER_NAME, false],
      ['Image', true],
    ]);
    const back = oraToDocument(await decodeOra(await encodeOra(ora, nodePngCodec), nodePngCodec));
    expect([back.width, back.height]).toEqual([64, 48]);
    expect(Buffer.from(back.image!.data).equals(Buffer.from(image.data))).toBe(true);
    expect(Buffer.from(back.mask).equals(Buffer.from(mask.data))).toBe(true);
    expect(back.parameters).toBe(PARAMETERS);
  });

  it('a file from another painter opens as its visible layers flattened, cropped to multiples of 8', () => {
    const opaque = (rgb: [number, number, number]) => ({
      width: 4,
      height: 4,
      data: new Uint8ClampedArray(Array.from({ length: 16 }, () => [...rgb, 255]).flat()),
    });
    const doc = oraToDocument({
      width: 10,
      height: 9,
      layers: [
        { name: 'half white', raster: opaque([255, 255, 255]), x: 2, y: 1, opacity: 0.5, visible: true },
        { name: 'hidden green', raster: opaque([0, 255, 0]), x: 0, y: 0, opacity: 1, visible: false },
        { name: 'black', raster: opaque([0, 0, 0]), x: 0, y: 0, opacity: 1, visible: true },
      ],
    });
    expect([doc.width, doc.height]).toEqual([8, 8]);
    // The 10×9 picture loses column 0 and row 8 (centred crop): (1,1) in the crop was (2,1) in the file.
    const px = (x: number, y: number) => [...doc.image!.data.subarray((y * 8 + x) * 4, (y * 8 + x) * 4 + 4)];
    expect(px(1, 1)).toEqual([128, 128, 128, 255]);
    expect(px(1, 0)).toEqual([0, 0, 0, 255]);
    expect(px(0, 0)).toEqual([0, 0, 0, 255]);
    expect(px(6, 6)).toEqual([0, 0, 0, 0]);
    expect(doc.mask.every((v) => v === 0)).toBe(true);
  });

  it("passes a zip reader outside the app: Python's zipfile sees mimetype first, stored, and a parseable stack.xml", async () => {
    const python = '/usr/bin/python3';
    if (!existsSync(python)) {
      console.warn('python3 missing: outside-the-app zip check skipped');
      return;
    }
    const file = path.join(tmp, 'doc.ora');
    writeFileSync(file, await encodeOra(sampleDoc(), nodePngCodec));
    const script = `
import json, sys, zipfile, xml.etree.ElementTree as ET
path = sys.argv[1]
raw = open(path, 'rb').read()
z = zipfile.ZipFile(path)
assert z.testzip() is None
first = z.infolist()[0]
root = ET.fromstring(z.read('stack.xml'))
layers = [l.attrib for l in root.iter('layer')]
print(json.dumps({
  'first': first.filename, 'stored': first.compress_type == zipfile.ZIP_STORED, 'extra': len(first.extra),
  'mimetype': z.read('mimetype').decode(), 'header': raw[30:54].decode('latin-1'),
  'names': sorted(z.namelist()), 'size': [root.get('w'), root.get('h')],
  'layers': [[l['name'], l['src'], l['visibility'], l['src'] in z.namelist()] for l in layers],
  'parameters': [l.get('{https://github.com/latent-studio/ora}parameters') for l in layers],
}))
`;
    const out = JSON.parse(execFileSync(python, ['-c', script, file], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(out).toMatchObject({
      first: 'mimetype',
      stored: true,
      extra: 0,
      mimetype: 'image/openraster',
      // What file(1) and the ORA spec rely on: the bare mimetype right after the first local header.
      header: 'mimetypeimage/openraster',
      size: ['64', '48'],
    });
    expect(out['names']).toEqual(
      expect.arrayContaining(['stack.xml', 'mergedimage.png', 'Thumbnails/thumbnail.png', 'data/layer0.png', 'data/layer3.png']),
    );
    expect(out['layers']).toEqual([
      ['Top & "glaze"', 'data/layer3.png', 'visible', true],
      ['Hidden', 'data/layer2.png', 'hidden', true],
      ['Mask', 'data/layer1.png', 'hidden', true],
      ['Image', 'data/layer0.png', 'visible', true],
    ]);
    expect(out['parameters']).toEqual([null, null, null, PARAMETERS]);
  });
});
