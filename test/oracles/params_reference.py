"""Independent parameter count with Debian's python3-onnx, for test/cli/inspect.test.ts.

params = elements of floating-point constant tensors (initializers and Constant-node `value` tensors, in the main
graph and every subgraph) with more than one element; paramBytes = the bytes those elements take.

    /usr/bin/python3 test/oracles/params_reference.py a.onnx b.onnx   → {"a.onnx": {"params": n, "paramBytes": b}, ...}
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto

FLOAT_BYTES = {TensorProto.FLOAT: 4, TensorProto.FLOAT16: 2, TensorProto.BFLOAT16: 2, TensorProto.DOUBLE: 8}


def graphs(g):
    yield g
    for node in g.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from graphs(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield from graphs(sub)


def constants(g):
    yield from g.initializer
    for node in g.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            for attr in node.attribute:
                if attr.name == "value":
                    yield attr.t


result = {}
for path in sys.argv[1:]:
    model = onnx.load(path, load_external_data=False)
    params = nbytes = 0
    for g in graphs(model.graph):
        for t in constants(g):
            n = int(np.prod(t.dims, dtype=np.int64)) if len(t.dims) else 1
            if t.data_type in FLOAT_BYTES and n > 1:
                params += n
                nbytes += n * FLOAT_BYTES[t.data_type]
    result[path] = {"params": params, "paramBytes": nbytes}
print(json.dumps(result))
