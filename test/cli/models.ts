import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto } from 'onnx-buf';
import { DataType } from '../../src/ir/dtype.js';
import { ModelBuilder } from '../../src/ir/builder.js';
import { encodeModel } from '../../src/ir/save.js';

/** Hand-built test models shared by the CLI and I/O tests (the exported fixtures: test/support/fixtures.ts). */

/** A small conv net: Conv → Relu → GlobalAveragePool → Flatten → Gemm, input [1, 3, 8, 8], output [1, 5]. */
export function smallConvNet(): Uint8Array {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 3, 8, 8]);
  const c = b.op('Conv', [x, b.weight('conv.w', [4, 3, 3, 3]), b.weight('conv.b', [4])], { pads: [1, 1, 1, 1] });
  const r = b.op('Relu', [c]);
  const p = b.op('GlobalAveragePool', [r]);
  const f = b.op('Flatten', [p]);
  const y = b.op('Gemm', [f, b.weight('fc.w', [5, 4]), b.weight('fc.b', [5])], { transB: 1 });
  // onnx's checker requires graph outputs to declare a shape; the builder does not infer one.
  y.shape = [1, 5];
  y.elemType = DataType.FLOAT;
  b.output(y);
  return encodeModel(b.build());
}

/** Decodes, lets `edit` change the ModelProto, re-encodes: for building malformed models. */
export function editModel(bytes: Uint8Array, edit: (m: ModelProto) => void): Uint8Array {
  const m = fromBinary(ModelProtoSchema, bytes);
  edit(m);
  return toBinary(ModelProtoSchema, m);
}
