// The smallest useful ONNX model, y = x + x over a fixed float32 [1, 4] tensor (opset 13), written as
// protobuf bytes by hand: probing a backend needs one valid graph, and no ONNX/protobuf library is a
// dependency. Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, ValueInfoProto,
// TypeProto.Tensor, TensorShapeProto).

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;
const FLOAT32 = 1; // TensorProto.DataType.FLOAT

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const intField = (field: number, value: number): number[] => [...varint(field * 8 + WIRE_VARINT), ...varint(value)];
const bytesField = (field: number, bytes: readonly number[]): number[] => [...varint(field * 8 + WIRE_BYTES), ...varint(bytes.length), ...bytes];
const stringField = (field: number, text: string): number[] => bytesField(field, [...new TextEncoder().encode(text)]);

/** ValueInfoProto { name, type: TypeProto { tensor_type: { elem_type: FLOAT, shape: dims } } } */
function tensorValueInfo(name: string, dims: readonly number[]): number[] {
  const shape = dims.flatMap((d) => bytesField(1, intField(1, d)));
  const tensorType = [...intField(1, FLOAT32), ...bytesField(2, shape)];
  return [...stringField(1, name), ...bytesField(2, bytesField(1, tensorType))];
}

export const PROBE_INPUT = { name: 'x', dims: [1, 4], values: [1, 2, 3, 4] } as const;
export const PROBE_OUTPUT = { name: 'y', values: [2, 4, 6, 8] } as const;

/** The model's bytes: ModelProto { ir_version 8, graph { Add(x, x) -> y }, opset_import { version 13 } }. */
export function probeModelBytes(): Uint8Array {
  const node = [...stringField(1, 'x'), ...stringField(1, 'x'), ...stringField(2, 'y'), ...stringField(3, 'add'), ...stringField(4, 'Add')];
  const graph = [
    ...bytesField(1, node),
    ...stringField(2, 'backend-probe'),
    ...bytesField(11, tensorValueInfo(PROBE_INPUT.name, PROBE_INPUT.dims)),
    ...bytesField(12, tensorValueInfo(PROBE_OUTPUT.name, PROBE_INPUT.dims)),
  ];
  return Uint8Array.from([...intField(1, 8), ...bytesField(7, graph), ...bytesField(8, intField(2, 13))]);
}
