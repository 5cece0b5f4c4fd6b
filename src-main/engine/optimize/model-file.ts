// Reading and writing whole ONNX models as protobuf objects, for the graph optimizer. The only file that
// imports the ONNX protobuf definitions (onnx-proto, protobufjs underneath), as runtime.ts is the only one
// that imports onnxruntime.
//
// External data (model.onnx_data, weights.pb: how exporters store models over protobuf's 2 GB limit) is read
// into the tensors on load, so passes see every weight the same way, and written back to one side file on
// save when the model is large.

import { open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import protobuf from 'protobufjs/minimal.js';

// int64 fields (shapes, axes, attribute ints) as plain numbers rather than Long objects: every int64 in a
// Stable Diffusion graph fits in 2^53, and passes compare and compute with them.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** TensorProto.DataType values used by the passes. */
export const DataType = onnxProto.onnx.TensorProto.DataType;

/** Above this many bytes of weights a written model keeps them in a side file (protobuf's limit is 2 GiB). */
export const EXTERNAL_DATA_THRESHOLD_BYTES = 1024 ** 3;

/** Decode an .onnx file, pulling any external data into the tensors' raw_data. */
export async function readModelFile(file: string): Promise<ModelProto> {
  const model = onnx.ModelProto.decode(await readFile(file));
  await loadExternalData(model, path.dirname(file));
  return model;
}

async function loadExternalData(model: ModelProto, dir: string): Promise<void> {
  const tensors = (model.graph?.initializer ?? []).filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
  const handles = new Map<string, Awaited<ReturnType<typeof open>>>();
  try {
    for (const t of tensors) {
      const entry = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
      const location = entry.location;
      if (!location || path.isAbsolute(location) || location.split(/[\\/]/).includes('..')) {
        throw new Error(`tensor ${t.name}: external data location ${JSON.stringify(location)} is not a file beside the model`);
      }
      let handle = handles.get(location);
      if (!handle) {
        handle = await open(path.join(dir, location), 'r');
        handles.set(location, handle);
      }
      const offset = Number(entry.offset ?? 0);
      const length = entry.length !== undefined ? Number(entry.length) : (await handle.stat()).size - offset;
      const bytes = Buffer.alloc(length);
      const { bytesRead } = await handle.read(bytes, 0, length, offset);
      if (bytesRead !== length) throw new Error(`tensor ${t.name}: ${location} is shorter than the model says (wanted ${length} bytes at ${offset})`);
      t.rawData = bytes;
      t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
      t.externalData = [];
    }
  } finally {
    for (const h of handles.values()) await h.close();
  }
}

export interface WriteModelOptions {
  /** Keep weights in `<file name>_data` beside the model: 'auto' (default) when they pass the threshold. */
  externalData?: boolean | 'auto';
}

/**
 * Encode a model to `file`. With external data, initializers of 1 KiB and more go to one side file named
 * `<file>_data` (ONNX's own convention, e.g. model.onnx_data) and the model refers to it by relative path.
 * The model object is left as it was given.
 */
export async function writeModelFile(model: ModelProto, file: string, options: WriteModelOptions = {}): Promise<void> {
  const initializers = model.graph?.initializer ?? [];
  const weightBytes = initializers.reduce((n, t) => n + (t.rawData?.length ?? 0), 0);
  const external = options.externalData === true || (options.externalData !== false && weightBytes > EXTERNAL_DATA_THRESHOLD_BYTES);
  const dataFile = `${file}_data`;
  await rm(dataFile, { force: true });
  if (!external) {
    await writeFile(file, onnx.ModelProto.encode(model).finish());
    return;
  }
  const moved: Array<{ tensor: TensorProto; rawData: Uint8Array }> = [];
  const handle = await open(dataFile, 'w');
  try {
    let offset = 0;
    for (const t of initializers) {
      const raw = t.rawData;
      if (!raw || raw.length < 1024) continue;
      await handle.write(raw, 0, raw.length, offset);
      moved.push({ tensor: t, rawData: raw });
      t.rawData = new Uint8Array(0);
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [
        { key: 'location', value: path.basename(dataFile) },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.length) },
      ];
      // 4 KiB alignment, as onnx's own writer does, so runtimes may map the file.
      offset = Math.ceil((offset + raw.length) / 4096) * 4096;
    }
    await writeFile(file, onnx.ModelProto.encode(model).finish());
  } finally {
    await handle.close();
    for (const { tensor, rawData } of moved) {
      tensor.rawData = rawData;
      tensor.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
      tensor.externalData = [];
    }
  }
}
