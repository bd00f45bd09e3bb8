/**
 * Small models for the calibration tests, built with the graph builder: each exercises one way consumers read a
 * group (Gemm, Conv with padding and stride, MatMul over tokens with SwiGLU, a residual group with two consumers
 * reading two different tensors, a conv channel flattened into H·W features), with dead ReLU units where liveness
 * matters. `sites` names, per group (by its first producer), the tensors its consumers read: what the oracle computes
 * the statistics of, independently of the engine's consumer records.
 */
import { ModelBuilder } from '../../src/ir/builder.js';
import type { Model } from '../../src/ir/model.js';

export interface SmallModel {
  name: string;
  model: Model;
  /** Input shape per sample (the batch dim excluded). */
  sample: number[];
  /** Producer node name → the tensors its group's consumers read, with the channel axis. */
  sites: Record<string, { value: string; axis: number }[]>;
  /** Consumer node name → its weight initializer and the axes of input positions and output features in it. */
  consumers: Record<string, { weight: string; inAxis: number; outAxis: number }>;
  /** The graph output each test compares (a consumer's output for the compensation test). */
  probes: string[];
}

/** Biases of −50 on the first units: their ReLU never fires on inputs in [−1, 1] (dead units). */
function deadBias(n: number, dead: number): number[] {
  return Array.from({ length: n }, (_, i) => (i < dead ? -50 : 0.1 * ((i % 3) - 1)));
}

/** `batch`: the input's batch dim (a number: a model with a fixed batch size). */
export function mlp(batch: number | string = 'N'): SmallModel {
  const b = new ModelBuilder(17, 11);
  const x = b.input('x', [batch, 12]);
  const h = b.op('Gemm', [x, b.weight('w1', [16, 12]), b.weight('b1', [16], deadBias(16, 4))], { transB: 1 }, { name: 'fc1' });
  const r = b.op('Relu', [h], {}, { name: 'relu1' });
  const y = b.op('Gemm', [r, b.weight('w2', [10, 16]), b.weight('b2', [10])], { transB: 1 }, { name: 'fc2' });
  b.output(y);
  return {
    name: 'mlp', model: b.build(), sample: [12], probes: [y.name],
    sites: { fc1: [{ value: r.name, axis: 1 }] },
    consumers: { fc2: { weight: 'w2', inAxis: 1, outAxis: 0 } },
  };
}

export function cnn(): SmallModel {
  const b = new ModelBuilder(17, 12);
  const x = b.input('x', ['N', 3, 8, 8]);
  const c1 = b.op('Conv', [x, b.weight('k1', [6, 3, 3, 3]), b.weight('c1b', [6], deadBias(6, 1))], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  const r1 = b.op('Relu', [c1], {}, { name: 'relu1' });
  const c2 = b.op('Conv', [r1, b.weight('k2', [5, 6, 3, 3]), b.weight('c2b', [5])], { pads: [1, 0, 1, 1], strides: [2, 2] }, { name: 'conv2' });
  const r2 = b.op('Relu', [c2], {}, { name: 'relu2' });
  const p = b.op('GlobalAveragePool', [r2], {}, { name: 'gap' });
  const f = b.op('Flatten', [p], {}, { name: 'flatten' });
  const y = b.op('Gemm', [f, b.weight('w3', [5, 4])], {}, { name: 'fc' });
  b.output(c2);
  b.output(y);
  return {
    name: 'cnn', model: b.build(), sample: [3, 8, 8], probes: [c2.name],
    sites: { conv1: [{ value: r1.name, axis: 1 }], conv2: [{ value: f.name, axis: 1 }] },
    consumers: { conv2: { weight: 'k2', inAxis: 1, outAxis: 0 }, fc: { weight: 'w3', inAxis: 0, outAxis: 1 } },
  };
}

export function swiglu(): SmallModel {
  const b = new ModelBuilder(17, 13);
  const x = b.input('x', ['N', 5, 8]);
  const gate = b.op('MatMul', [x, b.weight('wg', [8, 12])], {}, { name: 'gate' });
  const silu = b.op('Mul', [gate, b.op('Sigmoid', [gate], {}, { name: 'sig' })], {}, { name: 'silu' });
  const up = b.op('MatMul', [x, b.weight('wu', [8, 12])], {}, { name: 'up' });
  const h = b.op('Mul', [silu, up], {}, { name: 'glu' });
  const y = b.op('MatMul', [h, b.weight('wd', [12, 8])], {}, { name: 'down' });
  b.output(y);
  return {
    name: 'swiglu', model: b.build(), sample: [5, 8], probes: [y.name],
    sites: { gate: [{ value: h.name, axis: 2 }] },
    consumers: { down: { weight: 'wd', inAxis: 0, outAxis: 1 } },
  };
}

export function residual(): SmallModel {
  const b = new ModelBuilder(17, 14);
  const x = b.input('x', ['N', 10]);
  const a = b.op('Gemm', [x, b.weight('wa', [10, 8]), b.weight('ba', [8])], {}, { name: 'a' });
  const c = b.op('Gemm', [x, b.weight('wb', [10, 8])], {}, { name: 'b' });
  const s = b.op('Add', [a, c], {}, { name: 'sum' });
  const r = b.op('Relu', [s], {}, { name: 'relu' });
  const t = b.op('Tanh', [s], {}, { name: 'tanh' });
  const yc = b.op('Gemm', [r, b.weight('wc', [5, 8]), b.weight('bc', [1], [0.25])], { transB: 1, alpha: { float: 0.5 }, beta: { float: 2 } }, { name: 'c' });
  const yd = b.op('MatMul', [t, b.weight('wd', [8, 4])], {}, { name: 'd' });
  b.output(yc);
  b.output(yd);
  return {
    name: 'residual', model: b.build(), sample: [10], probes: [yc.name, yd.name],
    sites: { a: [{ value: r.name, axis: 1 }, { value: t.name, axis: 1 }] },
    consumers: { c: { weight: 'wc', inAxis: 1, outAxis: 0 }, d: { weight: 'wd', inAxis: 0, outAxis: 1 } },
  };
}

export function flattened(): SmallModel {
  const b = new ModelBuilder(17, 15);
  const x = b.input('x', ['N', 2, 4, 4]);
  const c = b.op('Conv', [x, b.weight('k', [3, 2, 3, 3]), b.weight('kb', [3])], { pads: [1, 1, 1, 1] }, { name: 'conv' });
  const r = b.op('Relu', [c], {}, { name: 'relu' });
  const f = b.op('Flatten', [r], {}, { name: 'flatten' });
  const y = b.op('Gemm', [f, b.weight('w', [5, 48]), b.weight('wb', [5])], { transB: 1 }, { name: 'fc' });
  b.output(y);
  return {
    name: 'flattened', model: b.build(), sample: [2, 4, 4], probes: [y.name],
    sites: { conv: [{ value: f.name, axis: 1 }] },
    consumers: { fc: { weight: 'w', inAxis: 1, outAxis: 0 } },
  };
}

export const SMALL_MODELS = [mlp, cnn, swiglu, residual, flattened];
