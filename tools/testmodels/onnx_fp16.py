"""float32 -> float16 conversion of an ONNX graph, like ORT's `convert_float_to_float16(keep_io_types=False)`:
every float graph input/output, initializer, Constant and Cast-to-float becomes float16. Inputs that ONNX
requires to stay float32 (Resize roi/scales) are left alone. onnxruntime's CPU provider inserts casts around
nodes that have no float16 kernel, so the result runs on CPU (slowly), as real fp16 downloads do.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

# (op_type, input index) pairs that must stay float32.
KEEP_FLOAT32_INPUTS = {("Resize", 1), ("Resize", 2)}


def _to_f16(t: TensorProto) -> TensorProto:
    arr = numpy_helper.to_array(t)
    with np.errstate(over="ignore"):
        out = numpy_helper.from_array(arr.astype(np.float16), t.name)
    return out


def convert_to_float16(model: onnx.ModelProto) -> onnx.ModelProto:
    g = model.graph
    keep = set()
    for node in g.node:
        for i, name in enumerate(node.input):
            if (node.op_type, i) in KEEP_FLOAT32_INPUTS and name:
                keep.add(name)
    for vi in list(g.input) + list(g.output):
        tt = vi.type.tensor_type
        if tt.elem_type == TensorProto.FLOAT:
            tt.elem_type = TensorProto.FLOAT16
    del g.value_info[:]
    for i, init in enumerate(g.initializer):
        if init.data_type == TensorProto.FLOAT and init.name not in keep:
            g.initializer[i].CopyFrom(_to_f16(init))
    for node in g.node:
        if node.op_type == "Constant" and node.output[0] not in keep:
            for a in node.attribute:
                if a.name == "value" and a.t.data_type == TensorProto.FLOAT:
                    a.t.CopyFrom(_to_f16(a.t))
        elif node.op_type == "ConstantOfShape":
            for a in node.attribute:
                if a.name == "value" and a.t.data_type == TensorProto.FLOAT:
                    a.t.CopyFrom(_to_f16(a.t))
        elif node.op_type == "Cast":
            for a in node.attribute:
                if a.name == "to" and a.i == TensorProto.FLOAT:
                    a.i = TensorProto.FLOAT16
        elif node.op_type in ("RandomNormalLike", "RandomUniformLike", "RandomNormal", "RandomUniform", "EyeLike"):
            for a in node.attribute:
                if a.name == "dtype" and a.i == TensorProto.FLOAT:
                    a.i = TensorProto.FLOAT16
    onnx.checker.check_model(model)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    return model
