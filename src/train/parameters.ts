import * as tf from '@tensorflow/tfjs-core';
import { constantNodeTensor } from '../ir/constants.js';
import { isFloatType } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import { tfDtypeOf } from './tfDtype.js';

/**
 * The model's constants as tfjs tensors, keyed by the value that stores them (an initializer or a Constant node's
 * output); those chosen as trainable are tf.Variables. fp16 weights behind a Cast load as float32 variables and the
 * Cast runs as a (float32 → float32) no-op; write-back converts them to the stored type again.
 */
export class ParameterTable {
  readonly variables = new Map<Value, tf.Variable>();
  private readonly stored = new Map<Value, Tensor>();
  private readonly tensors = new Map<Value, tf.Tensor>();

  constructor(graph: Graph, trainable: (stored: Value) => boolean) {
    for (const { value, tensor } of storedConstants(graph)) {
      this.stored.set(value, tensor);
      if (!isFloatType(tensor.dataType) || !trainable(value)) continue;
      const v = tf.tidy(() => tf.variable(toTfTensor(tensor), true));
      this.variables.set(value, v);
      this.tensors.set(value, v);
    }
    // Graph inputs with an initializer: defaults used when the input is not fed.
    for (const v of graph.inputs) if (v.initializer) this.stored.set(v, v.initializer);
  }

  /** True when v is a stored constant of the graph. */
  has(v: Value): boolean {
    return this.stored.has(v);
  }

  /**
   * The tensor for a stored constant, made on first use (a head-only run never loads the trunk's weights) and kept
   * out of any enclosing tf.tidy.
   */
  get(v: Value): tf.Tensor | undefined {
    let t = this.tensors.get(v);
    if (!t) {
      const stored = this.stored.get(v);
      if (!stored) return undefined;
      t = tf.keep(toTfTensor(stored));
      this.tensors.set(v, t);
    }
    return t;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
    this.variables.clear();
  }
}

/** Every constant a graph stores: initializers that are not graph inputs, and Constant-node outputs. */
export function storedConstants(graph: Graph): { value: Value; tensor: Tensor }[] {
  const out: { value: Value; tensor: Tensor }[] = [];
  for (const v of graph.initializers) if (!v.isGraphInput() && v.initializer) out.push({ value: v, tensor: v.initializer });
  for (const n of graph.nodes) {
    if (n.opType !== 'Constant' || (n.domain !== '' && n.domain !== 'ai.onnx')) continue;
    const t = constantNodeTensor(n);
    const v = n.outputs[0];
    if (t && v) out.push({ value: v, tensor: t });
  }
  return out;
}

/** An ONNX tensor as a tfjs tensor: floats as float32, integers as int32 (int64 clamped to its range), bools. */
export function toTfTensor(t: Tensor): tf.Tensor {
  const dtype = tfDtypeOf(t.dataType);
  if (dtype === 'float32') return tf.tensor(t.toFloat32(), t.dims, 'float32');
  const values = t.toNumbers();
  if (dtype === 'bool') return tf.tensor(Uint8Array.from(values, (v) => (v ? 1 : 0)), t.dims, 'bool');
  return tf.tensor(Int32Array.from(values, (v) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v))), t.dims, 'int32');
}
