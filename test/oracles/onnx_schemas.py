"""Every version of the named ONNX ops as python-onnx's schema registry describes them, as JSON on stdout:
{op: [{version, inputs: [[typeStr, option]], outputs: [...], attrs: {name: type}, constraints: {param: [types]}}]}.
The oracle for the op signatures in src/ir/shapes/ (test/io/opSignatures.test.ts)."""
import json
import sys

import onnx.defs as defs
from onnx import AttributeProto

KIND = {AttributeProto.FLOAT: 'float', AttributeProto.INT: 'int', AttributeProto.STRING: 'string', AttributeProto.TENSOR: 'tensor',
        AttributeProto.GRAPH: 'graph', AttributeProto.SPARSE_TENSOR: 'sparse_tensor', AttributeProto.FLOATS: 'floats',
        AttributeProto.INTS: 'ints', AttributeProto.STRINGS: 'strings', AttributeProto.TENSORS: 'tensors',
        AttributeProto.GRAPHS: 'graphs', AttributeProto.SPARSE_TENSORS: 'sparse_tensors'}
OPTION = {defs.OpSchema.FormalParameterOption.Single: 'single', defs.OpSchema.FormalParameterOption.Optional: 'optional',
          defs.OpSchema.FormalParameterOption.Variadic: 'variadic'}


def params(formal):
    return [[f.typeStr, OPTION[f.option]] for f in formal]


wanted = set(sys.argv[1:])
out = {}
for s in defs.get_all_schemas_with_history():
    if s.domain != '' or s.name not in wanted:
        continue
    out.setdefault(s.name, []).append({
        'version': s.since_version,
        'inputs': params(s.inputs), 'outputs': params(s.outputs),
        'minInputs': s.min_input, 'maxInputs': s.max_input, 'minOutputs': s.min_output, 'maxOutputs': s.max_output,
        'attrs': {name: KIND[a.type] for name, a in s.attributes.items()},
        'constraints': {c.type_param_str: sorted(c.allowed_type_strs) for c in s.type_constraints},
    })
json.dump(out, sys.stdout)
