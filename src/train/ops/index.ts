import type { OpImpl } from '../opContext.js';
import { Conv, ConvTranspose } from './conv.js';
import { Gemm, MatMul } from './dense.js';
import { Dropout } from './dropout.js';
import * as elementwise from './elementwise.js';
import { BatchNormalization, InstanceNormalization, LayerNormalization } from './normalization.js';
import { AveragePool, GlobalAveragePool, GlobalMaxPool, MaxPool } from './pool.js';
import { Resize } from './resize.js';
import { ArgMax, LogSoftmax, ReduceL2, ReduceMax, ReduceMean, ReduceMin, ReduceProd, ReduceSum, Softmax } from './reduce.js';
import { ConstantOfShape, Expand, Flatten, Range, Reshape, Shape, Squeeze, Tile, Transpose, Unsqueeze } from './shape.js';
import { Concat, Gather, Pad, ScatterND, Slice, Split } from './slicing.js';

/**
 * ONNX op type (default domain) → implementation. `Constant` is absent on purpose: the executor holds every
 * constant (initializers and Constant-node outputs) as a tensor or trainable variable before a run starts.
 */
export const OPS: Readonly<Record<string, OpImpl>> = {
  ...elementwise,
  Conv, ConvTranspose,
  Gemm, MatMul,
  Dropout,
  BatchNormalization, InstanceNormalization, LayerNormalization,
  AveragePool, GlobalAveragePool, GlobalMaxPool, MaxPool,
  ArgMax, LogSoftmax, ReduceL2, ReduceMax, ReduceMean, ReduceMin, ReduceProd, ReduceSum, Softmax,
  ConstantOfShape, Expand, Flatten, Range, Reshape, Shape, Squeeze, Tile, Transpose, Unsqueeze,
  Concat, Gather, Pad, ScatterND, Slice, Split,
  Resize,
};
