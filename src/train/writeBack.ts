import * as tf from '@tensorflow/tfjs-core';
import { constantNodeTensor } from '../ir/constants.js';
import { DataType } from '../ir/dtype.js';
import { Tensor } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';

/**
 * Puts new data into a stored constant, in the element type it was stored in (fp16 stays fp16), under the same name.
 * An initializer gets a new Tensor; a Constant node gets a `value` attribute in place of whichever value_* it had.
 */
export function replaceStoredTensor(stored: Value, dims: readonly number[], data: Float32Array, dataType: number): void {
  if (stored.initializer) {
    stored.initializer = Tensor.fromFloat32(stored.initializer.name, dims, data, dataType);
    stored.elemType = dataType;
    stored.shape = [...dims];
    return;
  }
  const node = stored.producer();
  if (!node || node.opType !== 'Constant') throw new Error(`'${stored.name}' is not a stored constant`);
  node.attributes = node.attributes.filter((a) => !a.name.startsWith('value'));
  node.setAttr('value', Tensor.fromFloat32(stored.name, dims, data, dataType));
  if (stored.shape) stored.shape = [...dims];
}

/** The element type a stored constant holds now. */
export function storedDataType(stored: Value): number {
  if (stored.initializer) return stored.initializer.dataType;
  const node = stored.producer();
  return (node && constantNodeTensor(node)?.dataType) ?? stored.elemType ?? DataType.FLOAT;
}

/** Writes each trained variable back into its stored constant; untouched constants keep their bytes. */
export function writeBackVariables(variables: ReadonlyMap<Value, tf.Variable>): string[] {
  const names: string[] = [];
  for (const [stored, variable] of variables) {
    replaceStoredTensor(stored, variable.shape, variable.dataSync() as Float32Array, storedDataType(stored));
    names.push(stored.name);
  }
  return names;
}
