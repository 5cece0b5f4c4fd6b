import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelFile, writeModelFile } from '../../../src-main/engine/optimize/model-file.js';

const models = path.resolve(__dirname, '../../models');
const tmp = await mkdtemp(path.join(os.tmpdir(), 'model-file-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function runVae(file: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  try {
    const latent = new Float32Array(4 * 8 * 8).map((_, i) => Math.sin(i * 0.37));
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', latent, [1, 4, 8, 8]) });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('readModelFile / writeModelFile', () => {
  const source = path.join(models, 'tiny-sd15/vae_decoder/model.onnx');

  it('round-trips a model inline: same outputs', async () => {
    const file = path.join(tmp, 'inline.onnx');
    await writeModelFile(await readModelFile(source), file, { externalData: false });
    expect(Array.from(await runVae(file))).toEqual(Array.from(await runVae(source)));
  });

  it('round-trips a model through external data, and leaves the model object inline', async () => {
    const model = await readModelFile(source);
    const file = path.join(tmp, 'external.onnx');
    await writeModelFile(model, file, { externalData: true });
    expect((await stat(`${file}_data`)).size).toBeGreaterThan((await stat(file)).size);
    expect(model.graph!.initializer!.every((t) => t.dataLocation !== 1)).toBe(true);
    const reread = await readModelFile(file);
    expect(reread.graph!.initializer!.every((t) => t.dataLocation !== 1)).toBe(true);
    expect(Array.from(await runVae(file))).toEqual(Array.from(await runVae(source)));
  });

  it('reads a model whose weights an exporter put in model.onnx_data', async () => {
    const model = await readModelFile(path.join(models, 'overlay-external-data/unet/model.onnx'));
    const bytes = model.graph!.initializer!.reduce((n, t) => n + (t.rawData?.length ?? 0), 0);
    expect(bytes).toBeGreaterThan(0);
    expect(typeof model.graph!.initializer![0].dims![0]).toBe('number');
  });

  it('refuses external data that points outside the model folder', async () => {
    const model = await readModelFile(source);
    const t = model.graph!.initializer!.find((x) => (x.rawData?.length ?? 0) > 0)!;
    t.rawData = new Uint8Array(0);
    t.dataLocation = 1;
    t.externalData = [{ key: 'location', value: '../../etc/passwd' }];
    const file = path.join(tmp, 'escape.onnx');
    await writeModelFile(model, file, { externalData: false });
    await expect(readModelFile(file)).rejects.toThrow(/not a file beside the model/);
  });
});
