import { describe, expect, it } from 'vitest';
import { readImageMetadata } from '../../../src-main/engine/image/metadata.js';
import { fileCommandFor } from '../../../src-renderer/src/lib/canvas/keymap.js';
import { DocumentFiles } from '../../../src-renderer/src/lib/files/document-files.svelte.js';
import { withPngText } from '../../../src-renderer/src/lib/files/png-text.js';
import type { RgbaRaster } from '../../../src-renderer/src/lib/raster/rgba-raster.js';
import { Studio } from '../../../src-renderer/src/lib/state/studio.svelte.js';
import { FakeApi } from './fake-api.js';
import { nodePngCodec } from './png-codec.js';

interface Delivered {
  bytes: Uint8Array;
  name: string;
  type: string;
}

function makeFiles() {
  const api = new FakeApi();
  const studio = new Studio(api.asApi());
  const delivered: Delivered[] = [];
  let picks = 0;
  const files = new DocumentFiles(studio, nodePngCodec, (bytes, name, type) => delivered.push({ bytes, name, type }), () => picks++);
  return { studio, files, delivered, picks: () => picks };
}

function gradient(width: number, height: number): RgbaRaster {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([i % 256, (i * 7) % 256, (i * 13) % 256, 255], i * 4);
  return { width, height, data };
}

const INFOTEXT = 'a lighthouse\nSteps: 4, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 64x64';

describe('DocumentFiles', () => {
  it('save then open restores image and mask pixel for pixel, in one undoable step', async () => {
    const a = makeFiles();
    a.studio.doc.setImage(gradient(64, 64));
    const mask = a.studio.doc.mask;
    const before = mask.data.slice();
    for (let i = 100; i < 900; i++) mask.data[i] = i % 256;
    a.studio.doc.commitStroke({ rect: { x: 0, y: 0, width: 64, height: 64 }, before, after: mask.data.slice() });
    await a.files.save();
    expect(a.studio.problem).toBeNull();
    expect(a.delivered.map((d) => [d.name, d.type])).toEqual([['untitled.ora', 'image/openraster']]);

    const b = makeFiles();
    b.studio.doc.setImage(gradient(32, 32));
    await b.files.open(new File([a.delivered[0]!.bytes as Uint8Array<ArrayBuffer>], 'sketch.ora'));
    expect(b.studio.problem).toBeNull();
    expect([b.studio.doc.width, b.studio.doc.height]).toEqual([64, 64]);
    expect(Buffer.from(b.studio.doc.image!.data).equals(Buffer.from(a.studio.doc.image!.data))).toBe(true);
    expect(Buffer.from(b.studio.doc.mask.data).equals(Buffer.from(mask.data))).toBe(true);
    expect(b.studio.doc.mode).toBe('inpaint');
    expect(b.files.name).toBe('sketch');
    b.studio.doc.undo();
    expect(b.studio.doc.width).toBe(32);
  });

  it('a broken .ora leaves the document alone and says why', async () => {
    const { studio, files } = makeFiles();
    studio.doc.setImage(gradient(16, 16));
    const image = studio.doc.image;
    await files.open(new File([new Uint8Array([1, 2, 3])], 'broken.ora'));
    expect(studio.problem?.title).toBe('The document could not be opened');
    expect(studio.doc.image).toBe(image);
  });

  it('exports an accepted result with its A1111 parameters, and keeps them through .ora', async () => {
    const { studio, files, delivered } = makeFiles();
    const raster = gradient(64, 64);
    const png = await nodePngCodec.encode(raster);
    const items = [{ raster, seed: '42', infotext: INFOTEXT, png }];
    studio.results.show(items, 'generate');
    files.noteResults(items);
    studio.accept();
    await files.exportPng();
    expect(delivered[0]!.name).toBe('untitled.png');
    expect(readImageMetadata(delivered[0]!.bytes).parameters).toBe(INFOTEXT);
    const pixels = await nodePngCodec.decode(delivered[0]!.bytes);
    expect(Buffer.from(pixels.data).equals(Buffer.from(raster.data))).toBe(true);

    await files.save();
    const again = makeFiles();
    await again.files.open(new File([delivered[1]!.bytes as Uint8Array<ArrayBuffer>], 'x.ora'));
    await again.files.exportPng();
    expect(readImageMetadata(again.delivered[0]!.bytes).parameters).toBe(INFOTEXT);
  });

  it('exports a picture painted by hand without parameters, and says so when there is nothing', async () => {
    const { studio, files, delivered } = makeFiles();
    await files.exportPng();
    expect(studio.problem?.code).toBe('nothing-to-export');
    studio.problem = null;
    studio.doc.setImage(gradient(16, 16));
    await files.exportPng();
    expect(readImageMetadata(delivered[0]!.bytes).parameters).toBeUndefined();
  });

  it('new document: asks with the model size, clears to a blank canvas, undo brings the old one back', async () => {
    const { studio, files, picks } = makeFiles();
    studio.models = [{ id: 'm', name: 'm', dir: '/m', source: 'bundled', hasVaeEncoder: true, defaultSize: { width: 64, height: 48 } } as never];
    studio.settings.model = 'm';
    studio.doc.setImage(gradient(32, 32));
    files.run('file.new');
    expect(files.asking).toEqual({ width: 64, height: 48 });
    files.newDocument(100, 60);
    expect([studio.doc.width, studio.doc.height, studio.doc.image]).toEqual([96, 56, null]);
    expect(studio.doc.mode).toBe('txt2img');
    studio.doc.undo();
    expect(studio.doc.image?.width).toBe(32);
    files.run('file.open');
    expect(picks()).toBe(1);
  });

  it('png text: Latin-1 as tEXt, anything else as iTXt, both read back', async () => {
    const png = await nodePngCodec.encode(gradient(4, 4));
    expect(readImageMetadata(withPngText(png, 'parameters', 'café, Steps: 4')).parameters).toBe('café, Steps: 4');
    expect(readImageMetadata(withPngText(png, 'parameters', '灯台 ☕')).parameters).toBe('灯台 ☕');
    expect(() => withPngText(new Uint8Array(8), 'parameters', 'x')).toThrow(/not a png/i);
  });
});

describe('file shortcuts', () => {
  const key = (k: string, mods: { ctrlKey?: boolean; shiftKey?: boolean; metaKey?: boolean; altKey?: boolean } = {}) =>
    fileCommandFor({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });
  it('maps Ctrl+N/O/S and Ctrl+Shift+E (Cmd on a Mac), nothing without the modifier', () => {
    expect(key('n', { ctrlKey: true })).toBe('file.new');
    expect(key('o', { ctrlKey: true })).toBe('file.open');
    expect(key('s', { metaKey: true })).toBe('file.save');
    expect(key('E', { ctrlKey: true, shiftKey: true })).toBe('file.export');
    expect(key('e', { ctrlKey: true })).toBeNull();
    expect(key('s')).toBeNull();
    expect(key('S', { ctrlKey: true, shiftKey: true })).toBeNull();
    expect(key('s', { ctrlKey: true, altKey: true })).toBeNull();
  });
});
