/**
 * Test support for calibration: data files, activations dumped by onnxruntime (named tensors of a model copy, one
 * batch holding every sample: a path independent of the streaming collector) and the numpy / networkx oracle.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { writeNpy } from '../../bench/paper/npyWrite.js';
import { decodeModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import { rng } from '../dependency/helpers/run.js';
import { pythonHas, SYSTEM_PYTHON } from '../io/python.js';

const ORACLE = fileURLToPath(new URL('./calib_reference.py', import.meta.url));

/** numpy, networkx and python-onnx: what the oracle imports. */
export const ORACLE_MISSING = !pythonHas('numpy') || !pythonHas('onnx') || spawnSync(SYSTEM_PYTHON, ['-c', 'import networkx']).status !== 0
  ? 'the calibration oracle needs Debian python3 with numpy, networkx and onnx' : undefined;

/** `count` seeded samples in [−1, 1) of the given shape, written as float32 .npy; returns the path and the data. */
export function writeSamples(dir: string, name: string, count: number, sample: number[], seed: number): { path: string; data: Float32Array } {
  const r = rng(seed);
  const data = Float32Array.from({ length: count * sample.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1);
  const path = join(dir, `${name}.npy`);
  writeNpy(path, data, [count, ...sample]);
  return { path, data };
}

/** Runs a copy of the model with the named tensors as outputs, every sample in one batch. */
export async function dumpValues(model: Model, feeds: Record<string, ort.Tensor>, names: string[]): Promise<Record<string, ort.Tensor>> {
  const copy = decodeModel(encodeModel(model));
  for (const name of names) {
    const v = copy.graph.find(name)!;
    const original = model.graph.find(name)!;
    v.elemType = original.elemType;
    v.shape = original.shape;
    if (!copy.graph.hasOutput(v)) copy.graph.outputs = [...copy.graph.outputs, v];
  }
  const session = await ort.InferenceSession.create(encodeModel(copy));
  try {
    return await session.run(feeds, names);
  } finally {
    await session.release();
  }
}

/** Writes a tensor as float32 .npy. */
export function saveTensor(path: string, t: ort.Tensor): string {
  writeNpy(path, Float32Array.from(t.data as Float32Array), t.dims as number[]);
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

export function oracle(dir: string, spec: Record<string, unknown>): OracleResult {
  const file = join(dir, `spec-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return JSON.parse(execFileSync(SYSTEM_PYTHON, [ORACLE, file], { encoding: 'utf8', maxBuffer: 64 << 20 })) as OracleResult;
}

/** Largest |a − b| over the largest |b| (1 when b is all zero). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / (scale || 1);
}
