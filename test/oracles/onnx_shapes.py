"""Reference shapes from Debian's python3-onnx (the independent oracle for test/shapes).

Run with /usr/bin/python3 (onnx 1.12). Two commands, both print one JSON object on stdout:

  onnx_shapes.py infer MODEL...
      For each model: drop every value_info entry and the shapes/types of the graph outputs, run
      onnx.shape_inference.infer_shapes(strict_mode=False, data_prop=True) and report every value's
      element type and dims -> {path: {"values": {name: {"elemType", "dims"}}, "error"}}.

  onnx_shapes.py prepare-node OUT_DIR TEST_DIR...
      For each of ONNX's node test folders (model.onnx + test_data_set_0): turn the parameter-like graph inputs
      (integer tensors, small float tensors used only as a later input: shapes, axes, pads, scales, sizes) into
      initializers holding the test data, so shape inference can see them; strip value_info and output types;
      save OUT_DIR/<test>.onnx. Reports the python-onnx inference of the saved model and the true output dims
      (from output_N.pb, computed by numpy) -> {test: {"model", "opset", "values", "truth", "error"}}.

dims entries: an int (known), a string (symbolic), null (unknown); dims null means the rank is unknown.
"""
import glob
import json
import os
import sys

import onnx
from onnx import numpy_helper, shape_inference

INTEGER_TYPES = {
    onnx.TensorProto.INT64, onnx.TensorProto.INT32, onnx.TensorProto.INT16, onnx.TensorProto.INT8,
    onnx.TensorProto.UINT64, onnx.TensorProto.UINT32, onnx.TensorProto.UINT16, onnx.TensorProto.UINT8,
}


def dims_of(type_proto):
    if not type_proto.HasField("tensor_type"):
        return None, None
    t = type_proto.tensor_type
    elem = t.elem_type or None
    if not t.HasField("shape"):
        return elem, None
    dims = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return elem, dims


def strip(model):
    del model.graph.value_info[:]
    for o in model.graph.output:
        o.ClearField("type")


def infer_values(model):
    """python-onnx's element type and dims for every value it typed."""
    try:
        inferred = shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception as e:  # an inference error is part of the report, not a crash of the oracle
        return {}, str(e).split("\n")[0]
    out = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        elem, dims = dims_of(vi.type)
        if elem is None and dims is None:
            continue
        out[vi.name] = {"elemType": elem, "dims": dims}
    return out, None


def cmd_infer(paths):
    report = {}
    for path in paths:
        model = onnx.load(path)
        strip(model)
        values, error = infer_values(model)
        report[path] = {"values": values, "error": error}
    return report


def is_parameter(model, vi, tensor):
    """Inputs that configure an op (shapes, axes, pads, scales) rather than carry data."""
    uses = [i for n in model.graph.node for i, name in enumerate(n.input) if name == vi.name]
    if not uses:
        return False
    if tensor.data_type in INTEGER_TYPES:
        return True
    return tensor.data_type == onnx.TensorProto.FLOAT and numpy_helper.to_array(tensor).size <= 16 and min(uses) >= 1


def read_tensor(pb):
    """A TensorProto from a test-data .pb file, or None when the file holds something else (a sequence, an optional)."""
    tensor = onnx.TensorProto()
    try:
        with open(pb, "rb") as f:
            tensor.ParseFromString(f.read())
    except Exception:
        return None
    return tensor


def prepare_node(out_dir, test_dir):
    name = os.path.basename(os.path.normpath(test_dir))
    model = onnx.load(os.path.join(test_dir, "model.onnx"))
    data_dir = os.path.join(test_dir, "test_data_set_0")
    opset = max([o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] or [0])
    inputs = list(model.graph.input)
    for i, vi in enumerate(inputs):
        pb = os.path.join(data_dir, "input_%d.pb" % i)
        if not os.path.exists(pb) or not vi.type.HasField("tensor_type"):
            continue
        tensor = read_tensor(pb)
        if tensor is None:
            continue  # a sequence or optional input: not a tensor
        # Test data stores bfloat16 as uint16: keep such inputs as inputs rather than change their type.
        if tensor.data_type != vi.type.tensor_type.elem_type or not is_parameter(model, vi, tensor):
            continue
        tensor.name = vi.name
        model.graph.initializer.append(tensor)
        model.graph.input.remove(vi)
    truth = {}
    for i, vo in enumerate(model.graph.output):
        pb = os.path.join(data_dir, "output_%d.pb" % i)
        if not os.path.exists(pb) or not vo.type.HasField("tensor_type"):
            continue
        tensor = read_tensor(pb)
        if tensor is None:
            continue
        # The declared type: test data stores bfloat16 outputs as uint16.
        truth[vo.name] = {"elemType": vo.type.tensor_type.elem_type or None, "dims": list(tensor.dims)}
    strip(model)
    path = os.path.join(out_dir, name + ".onnx")
    onnx.save(model, path)
    values, error = infer_values(model)
    return name, {"model": path, "opset": opset, "values": values, "truth": truth, "error": error}


def cmd_prepare_node(out_dir, test_dirs):
    os.makedirs(out_dir, exist_ok=True)
    report = {}
    for d in test_dirs:
        if not os.path.exists(os.path.join(d, "model.onnx")):
            continue
        name, entry = prepare_node(out_dir, d)
        report[name] = entry
    return report


def main(argv):
    if len(argv) >= 1 and argv[0] == "infer":
        report = cmd_infer(argv[1:])
    elif len(argv) >= 2 and argv[0] == "prepare-node":
        dirs = []
        for pattern in argv[2:]:
            dirs.extend(sorted(glob.glob(pattern)))
        report = cmd_prepare_node(argv[1], dirs)
    else:
        sys.exit(__doc__)
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
