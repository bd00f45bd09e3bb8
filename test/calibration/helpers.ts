/**
 * Test support for calibration: data files, activations dumped by onnxruntime (named tensors of a model copy, one
 * batch holding every sample: a path independent of the streaming collector) and the numpy / networkx oracle
 * (test/oracles/calib_reference.py).
 */
import { join } from 'node:path';
import { decodeModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import { floats, Rng, runOrt, runPython, writeNpy, type Feeds, type Outputs, type ort } from '../support/index.js';

/** What calib_reference.py imports. */
export const CALIB_ORACLES: ['numpy', 'networkx', 'onnx'] = ['numpy', 'networkx', 'onnx'];

/** `count` seeded samples in [−1, 1) of the given shape, written as float32 .npy; returns the path and the data. */
export function writeSamples(dir: string, name: string, count: number, sample: number[], seed: number): { path: string; data: Float32Array } {
  const rng = new Rng(seed);
  const data = Float32Array.from({ length: count * sample.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1);
  const path = join(dir, `${name}.npy`);
  writeNpy(path, data, [count, ...sample]);
  return { path, data };
}

/** `count` windows of `length` seeded token ids in [0, vocab), written as int64 .npy [count, length]. */
export function writeTokenWindows(path: string, count: number, length: number, vocab: number, seed: number): string {
  const rng = new Rng(seed);
  writeNpy(path, BigInt64Array.from({ length: count * length }, () => BigInt(rng.int(vocab))), [count, length]);
  return path;
}

/** Runs a copy of the model with the named tensors as outputs, every sample in one batch. */
export async function dumpValues(model: Model, feeds: Feeds, names: string[]): Promise<Outputs> {
  const copy = decodeModel(encodeModel(model));
  for (const name of names) {
    const v = copy.graph.find(name)!;
    const original = model.graph.find(name)!;
    v.elemType = original.elemType;
    v.shape = original.shape;
    if (!copy.graph.hasOutput(v)) copy.graph.outputs = [...copy.graph.outputs, v];
  }
  const out = await runOrt(copy, feeds);
  return Object.fromEntries(names.map((n) => [n, out[n]!]));
}

/** Writes a tensor as float32 .npy. */
export function saveTensor(path: string, t: ort.Tensor): string {
  writeNpy(path, floats(t), t.dims as number[]);
  return path;
}

export interface OracleResult {
  sites: { count: number; sum: number[]; sumAbs: number[]; sumSq: number[] }[];
  samples: number;
  mean: number[];
  meanAbs: number[];
  l2: number[];
  activeFraction: number[];
  gram: number[][];
  edges: number;
  activationEigenvector?: number[];
  wanda: number[];
  flap: number[];
  deltas: number[][];
}

/** calib_reference.py on a spec (see its docstring). */
export function oracle(spec: Record<string, unknown>): OracleResult {
  return runPython<OracleResult>('calib_reference.py', [], { input: spec });
}
