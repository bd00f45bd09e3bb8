import * as tf from '@tensorflow/tfjs-core';

export type OptimizerKind = 'adam' | 'sgd';

/** The optimizers both training loops offer: Adam, or SGD with momentum 0.9. */
export function createOptimizer(kind: OptimizerKind, lr: number): tf.Optimizer {
  return kind === 'adam' ? tf.train.adam(lr) : tf.train.momentum(lr, 0.9);
}

/** A copy of the variables' current values, to restore the best step's weights after training. */
export function copyWeights(variables: readonly tf.Variable[]): Float32Array[] {
  return variables.map((v) => (v.dataSync() as Float32Array).slice());
}

export function restoreWeights(variables: readonly tf.Variable[], weights: readonly Float32Array[]): void {
  variables.forEach((v, i) => v.assign(tf.tensor(weights[i]!, v.shape)));
}
