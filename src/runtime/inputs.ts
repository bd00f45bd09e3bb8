import { fail } from '../ir/errors.js';
import { floatToHalf } from '../ir/dtype.js';
import type { DatasetOptions } from './data/types.js';
import { ort } from './ort.js';
import { Rng } from '../ir/random.js';

/** A model input as onnxruntime reports it; dims are numbers or symbolic names. */
export interface InputSpec {
  name: string;
  type: ort.Tensor.Type;
  dims: (number | string)[];
  /** The first dim is a fixed number: the model only runs at that batch size. */
  fixedBatch?: number;
}

export function inputSpecs(session: ort.InferenceSession): InputSpec[] {
  return session.inputMetadata.map((m) => {
    if (!m.isTensor) fail(`model input '${m.name}' is not a tensor (sequences and maps are not supported)`);
    const dims = m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d || '?')));
    const spec: InputSpec = { name: m.name, type: m.type, dims };
    if (typeof dims[0] === 'number') spec.fixedBatch = dims[0];
    return spec;
  });
}

/**
 * Concrete dims for random inputs: the batch dim gets `batch`, other symbolic dims 1 — except the spatial dims of an
 * NCHW image input (C = 1 or 3), which get 224 so convolutions have room.
 */
export function concreteDims(spec: InputSpec, batch: number): number[] {
  const image = spec.dims.length === 4 && (spec.dims[1] === 1 || spec.dims[1] === 3);
  return spec.dims.map((d, i) => (typeof d === 'number' ? d : i === 0 ? batch : image ? 224 : 1));
}

/**
 * Seeded random inputs for the given samples: floats uniform in [-1, 1), integers in [0, 8), booleans fair. Each
 * sample's values depend only on (seed, sample id), so any batching of the same samples sees the same inputs.
 */
export function randomBatch(spec: InputSpec, sample: number[], ids: number[], seed: number): ort.Tensor {
  const per = sample.slice(1).reduce((a, b) => a * b, 1);
  const dims = [ids.length, ...sample.slice(1)];
  const values = (draw: (rng: Rng) => number): number[] => ids.flatMap((id) => {
    const rng = new Rng(Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(id + 1, 0x85ebca6b) ^ hash(spec.name));
    return Array.from({ length: per }, () => draw(rng));
  });
  if (isFloat(spec.type)) return floatTensor(spec, Float32Array.from(values((r) => r.next() * 2 - 1)), dims);
  switch (spec.type) {
    case 'int64': return new ort.Tensor('int64', BigInt64Array.from(values((r) => r.int(8)), BigInt), dims);
    case 'int32': return new ort.Tensor('int32', Int32Array.from(values((r) => r.int(8))), dims);
    case 'bool': return new ort.Tensor('bool', Uint8Array.from(values((r) => r.int(2))), dims);
    case 'uint8': return new ort.Tensor('uint8', Uint8Array.from(values((r) => r.int(256))), dims);
    default: fail(`model input '${spec.name}' has type ${spec.type}, which random inputs do not cover`);
  }
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h;
}

/** Float data as a tensor of the input's float type. */
export function floatTensor(spec: InputSpec, data: Float32Array, dims: number[]): ort.Tensor {
  switch (spec.type) {
    case 'float32': return new ort.Tensor('float32', data, dims);
    case 'float64': return new ort.Tensor('float64', Float64Array.from(data), dims);
    case 'float16': return new ort.Tensor('float16', Uint16Array.from(data, floatToHalf), dims);
    default: fail(`model input '${spec.name}' has type ${spec.type}; data files can only feed float inputs`);
  }
}

function isFloat(t: ort.Tensor.Type): boolean {
  return t === 'float32' || t === 'float64' || t === 'float16';
}

/** Preprocessing defaults that make image data fit the model's input: size, channels and layout from its shape. */
export function dataOptionsForInput(spec: InputSpec): DatasetOptions {
  const d = spec.dims;
  const num = (v: number | string | undefined): v is number => typeof v === 'number';
  const size = (h: number | string | undefined, w: number | string | undefined): [number, number] | undefined => (num(h) && num(w) ? [h, w] : undefined);
  if (d.length === 4 && (d[1] === 1 || d[1] === 3)) return { layout: 'nchw', channels: d[1], size: size(d[2], d[3]) };
  if (d.length === 4 && (d[3] === 1 || d[3] === 3)) return { layout: 'nhwc', channels: d[3], size: size(d[1], d[2]) };
  if (d.length === 3) return { channels: 1, size: size(d[1], d[2]) };
  return {};
}

/**
 * The per-sample dims to feed: the data's own when they fit the model's (symbolic dims taking the data's sizes), or
 * the model's when only the element counts agree (e.g. 28×28 images into a flat 784-input model).
 */
export function sampleDims(spec: InputSpec, dataSample: number[]): number[] {
  const model = spec.dims.slice(1);
  if (model.length === dataSample.length && model.every((d, i) => typeof d !== 'number' || d === dataSample[i])) return dataSample;
  const count = (dims: (number | string)[]): number => dims.reduce<number>((a, b) => a * (typeof b === 'number' ? b : NaN), 1);
  if (count(model) === count(dataSample)) return model as number[];
  fail(`data samples have shape [${dataSample.join(', ')}] but model input '${spec.name}' expects [${model.join(', ')}] per sample (preprocessing options can resize images and set channels)`);
}
