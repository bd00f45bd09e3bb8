import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { clearField, create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema, AttributeProto_AttributeType as AttrType, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema, StringStringEntryProtoSchema,
  TensorProtoSchema, TensorProto_DataLocation as DataLocation, TensorShapeProtoSchema, TensorShapeProto_DimensionSchema, TypeProtoSchema,
  TypeProto_TensorSchema, ValueInfoProtoSchema,
  type AttributeProto, type ModelProto, type TensorProto, type ValueInfoProto,
} from 'onnx-buf';
import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { Rng } from '../../src/ir/random.js';
import { encodeModel } from '../../src/ir/save.js';
import { encodeNpy } from '../support/npy.js';

/**
 * Seeded hostile inputs for the CLI: each case is a folder of files (a mutated fixture, its external data, links,
 * FIFOs, directories) and one command line. Cases depend only on their seed, so a failure is replayed exactly
 * (`bench/fuzz.ts --seed N --cases 1`). The test (test/fuzz/fuzz.test.ts) and the longer campaign (bench/fuzz.ts)
 * share this generator and the runner in ./runCase.ts.
 */

/** A file a case puts in its folder before the command runs. */
export type FileSpec =
  | { kind: 'bytes'; data: Uint8Array }
  | { kind: 'dir' }
  | { kind: 'fifo' }
  /** A symbolic link; `target` is relative to the link's folder, or absolute. */
  | { kind: 'symlink'; target: string }
  /** A hard link to another file of the case (path relative to the case folder). */
  | { kind: 'hardlink'; target: string };

export interface FuzzCase {
  seed: number;
  /** What was done to the input, for the failure message. */
  label: string;
  /** Paths relative to the case folder; created in insertion order (link targets first). */
  files: Map<string, FileSpec>;
  /** The command line; `{dir}` stands for the case folder. */
  args: string[];
  /** Paths (relative) the command may create when it succeeds; models among them must run in onnxruntime. */
  outputs: string[];
}

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/** The fixtures cases start from: small ones for the CI test, all of them for a campaign. */
export const QUICK_FIXTURES = [
  'models/mlp.onnx', 'models/mlp_fp16.onnx', 'models/cnn_small.onnx', 'models/squeezenet.onnx', 'models/resnet_bottleneck.onnx', 'models/vit.onnx', 'models/bert.onnx', 'models/vgg11_bn.onnx', 'trained/vgg_mnist.onnx',
  // Decoders with a KV cache: a plain export, and onnxruntime's fused ops (GroupQueryAttention, SkipSimplifiedLayerNormalization).
  'decoders/llama_cache.onnx', 'decoders/fused/llama_gqa_cache.onnx',
];
export const ALL_FIXTURES = [
  ...QUICK_FIXTURES, 'models/bert_opset11.onnx', 'models/convnext.onnx', 'models/densenet.onnx', 'models/efficientnet_b0.onnx', 'models/googlenet.onnx',
  'models/mobilenet_v2.onnx', 'models/mobilenet_v3_small.onnx', 'models/resnet18.onnx', 'models/shufflenet_v2.onnx', 'models/shufflenet_v2_dynbatch.onnx',
  'models/swin.onnx', 'models/vgg11.onnx', 'trained/vgg_fashion.onnx',
  'decoders/gpt2.onnx', 'decoders/gpt2_cache.onnx', 'decoders/llama.onnx', 'decoders/qwen2.onnx', 'decoders/qwen2_cache.onnx',
  'decoders/fused/gpt2_attention.onnx', 'decoders/fused/gpt2_mha_cache.onnx', 'decoders/fused/llama_nbits_cache.onnx',
  'decoders/fused/llama_onnx23_cache.onnx', 'decoders/fused/qwen2_rotary_cache.onnx',
];

const cache = new Map<string, Uint8Array>();
function fixtureBytes(name: string): Uint8Array {
  let b = cache.get(name);
  if (!b) cache.set(name, (b = readFileSync(FIXTURES + name)));
  return b;
}

/** The case being built: the input model as a proto (or raw bytes once a byte-level mutation ran) and its folder. */
interface Draft {
  rng: Rng;
  proto: ModelProto;
  labels: string[];
  /** External data: tensors moved to in/<side> by `externalize`. */
  side?: { name: string; bytes: Uint8Array };
  files: Map<string, FileSpec>;
  /** A byte-level change applied to the encoded model. */
  bytes?: (b: Uint8Array) => Uint8Array;
  command: 'prune' | 'inspect' | 'groups' | 'validate' | 'evaluate';
  options: string[];
  /** Where prune writes (relative), and whether a side file may appear. */
  output: string;
  report?: string;
  /** The report's HTML page (--html). */
  page?: string;
}

type Mutator = (d: Draft) => void;

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;

const MODEL = 'in/model.onnx';

/**
 * Builds the case of `seed`: a fixture from `pool`, one to three mutations (only those whose name contains `only`,
 * when given), a command and its options.
 */
export function makeCase(seed: number, pool: readonly string[] = QUICK_FIXTURES, only?: string): FuzzCase {
  const rng = new Rng(seed * 2654435761);
  const synthetic = rng.next() < 0.04;
  const fixture = synthetic ? '' : pick(rng, pool);
  const proto = synthetic ? syntheticModel(rng) : fromBinary(ModelProtoSchema, fixtureBytes(fixture));
  const d: Draft = { rng, proto, labels: [synthetic ? 'synthetic' : fixture], files: new Map(), command: 'prune', options: [], output: 'out/pruned.onnx' };
  d.files.set('out', { kind: 'dir' });
  if (rng.next() < 0.25) externalize(d);
  // Some cases only stress the options and paths; most lie about the model once, a few twice or three times.
  const mutations = rng.next() < 0.1 ? 0 : 1 + (rng.next() < 0.25 ? 1 : 0) + (rng.next() < 0.08 ? 1 : 0);
  const mutators = only ? MUTATORS.filter(([name]) => name.includes(only)) : MUTATORS;
  for (let i = 0; i < (only ? Math.max(1, mutations) : mutations); i++) {
    const [name, m] = pick(rng, mutators);
    d.labels.push(name);
    m(d);
  }
  chooseCommand(d);
  return finish(seed, d);
}

function finish(seed: number, d: Draft): FuzzCase {
  let bytes: Uint8Array = toBinary(ModelProtoSchema, d.proto);
  if (d.bytes) bytes = d.bytes(bytes);
  const files = new Map<string, FileSpec>([['in', { kind: 'dir' }], [MODEL, { kind: 'bytes', data: bytes }]]);
  if (d.side && !d.files.has(`in/${d.side.name}`)) files.set(`in/${d.side.name}`, { kind: 'bytes', data: d.side.bytes });
  for (const [k, v] of d.files) if (!files.has(k)) files.set(k, v);
  const model = `{dir}/${MODEL}`;
  let args: string[];
  const outputs: string[] = [];
  switch (d.command) {
    case 'inspect': args = ['inspect', model, ...d.options]; break;
    case 'groups': args = ['inspect', model, '--groups', ...d.options]; break;
    case 'validate': args = ['validate', model, model, '--no-latency', ...d.options]; break;
    case 'evaluate': args = ['evaluate', model, ...d.options]; break;
    case 'prune':
      args = [model, '-o', `{dir}/${d.output}`, '-q', ...d.options];
      outputs.push(d.output, `${d.output}.data`);
      if (d.report) {
        args.push('--report', `{dir}/${d.report}`);
        outputs.push(d.report);
      }
      if (d.page) {
        args.push('--html', `{dir}/${d.page}`);
        outputs.push(d.page);
      }
      break;
  }
  return { seed, label: d.labels.join(' + '), files, args, outputs };
}

/** A graph no fixture has: very deep, very wide, or both. */
function syntheticModel(rng: Rng): ModelProto {
  const b = new ModelBuilder(13, rng.int(1000));
  const x = b.input('x', [1, 4, 6, 6]);
  const kind = rng.int(3);
  if (kind === 0) {
    // Deep: thousands of small layers in a chain.
    let y = x;
    const depth = 500 + rng.int(2500);
    for (let i = 0; i < depth; i++) y = b.op(i % 3 === 0 ? 'Conv' : 'Relu', i % 3 === 0 ? [y, b.weight(`w${i}`, [4, 4, 1, 1])] : [y]);
    b.output(y);
  } else {
    // Wide: one input feeding thousands of parallel convolutions, concatenated (or summed).
    const width = 200 + rng.int(kind === 1 ? 1800 : 4800);
    const outs = Array.from({ length: width }, (_, i) => b.op('Conv', [x, b.weight(`w${i}`, [2, 4, 1, 1])]));
    b.output(kind === 1 ? b.op('Concat', outs, { axis: 1 }) : b.op('Sum', outs));
  }
  return fromBinary(ModelProtoSchema, encodeModel(b.build()));
}

/** Moves every initializer's raw data to in/model.onnx.data (as onnx's external data layout). */
function externalize(d: Draft): void {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of d.proto.graph!.initializer) {
    if (t.rawData.byteLength === 0) continue;
    const start = offset;
    chunks.push(t.rawData);
    offset += t.rawData.byteLength;
    t.rawData = new Uint8Array(0);
    t.dataLocation = DataLocation.EXTERNAL;
    t.externalData = [entry('location', 'model.onnx.data'), entry('offset', String(start)), entry('length', String(offset - start))];
  }
  const bytes = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.byteLength; }
  d.side = { name: 'model.onnx.data', bytes };
  d.labels.push('external data');
}

function entry(key: string, value: string) {
  return create(StringStringEntryProtoSchema, { key, value });
}

function initializers(d: Draft): TensorProto[] {
  return d.proto.graph!.initializer;
}

function someTensor(d: Draft): TensorProto | undefined {
  const inits = initializers(d);
  const constants = d.proto.graph!.node.flatMap((n) => n.attribute.filter((a) => a.t).map((a) => a.t!));
  const all = d.rng.next() < 0.8 || constants.length === 0 ? inits : constants;
  return all.length ? pick(d.rng, all) : undefined;
}

function externalTensor(d: Draft): TensorProto | undefined {
  if (!d.side) externalize(d);
  const ext = initializers(d).filter((t) => t.dataLocation === DataLocation.EXTERNAL);
  return ext.length ? pick(d.rng, ext) : undefined;
}

function setEntry(t: TensorProto, key: string, value: string | undefined): void {
  const rest = t.externalData.filter((e) => e.key !== key);
  t.externalData = value === undefined ? rest : [...rest, entry(key, value)];
}

function someNode(d: Draft, ops?: readonly string[]) {
  const nodes = d.proto.graph!.node.filter((n) => !ops || ops.includes(n.opType));
  return nodes.length ? pick(d.rng, nodes) : undefined;
}

function dimValue(v: bigint) {
  return create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: v } });
}

function shapeDims(vi: ValueInfoProto) {
  return vi.type?.value.case === 'tensorType' ? vi.type.value.value.shape?.dim : undefined;
}

/** Absurd or wrong values for the fields a tensor has. */
const TENSOR_MUTATORS: Record<string, (d: Draft, t: TensorProto) => void> = {
  'data_type': (d, t) => { t.dataType = pick(d.rng, [0, 99, -3, 2 ** 31 - 1, DataType.STRING, DataType.FLOAT8E4M3FN, DataType.FLOAT8E5M2, DataType.INT4, DataType.UINT4, DataType.DOUBLE, DataType.INT64, DataType.INT32, DataType.FLOAT16, DataType.UINT8, DataType.BOOL, DataType.COMPLEX64, 24, 25, 26, 27]); },
  'dims negative': (_d, t) => { t.dims = [...t.dims.slice(0, -1), -5n]; },
  'dims 2^40 elements': (_d, t) => { t.dims = [2n ** 20n, 2n ** 20n]; },
  'dims 2^62': (_d, t) => { t.dims = [2n ** 62n]; },
  'dims zero': (_d, t) => { t.dims = [0n, ...t.dims.slice(1)]; },
  'dims reshaped (same count)': (d, t) => {
    const n = t.dims.reduce((a, b) => a * b, 1n);
    t.dims = d.rng.next() < 0.5 ? [n] : [1n, n];
  },
  'dims extra axis': (_d, t) => { t.dims = [...t.dims, 1n]; },
  'raw_data emptied': (_d, t) => { t.rawData = new Uint8Array(0); },
  'raw_data truncated': (d, t) => { t.rawData = t.rawData.slice(0, Math.max(0, t.rawData.byteLength - 1 - d.rng.int(16))); },
  'raw_data extended': (_d, t) => { const r = new Uint8Array(t.rawData.byteLength + 4); r.set(t.rawData); t.rawData = r; },
  'raw_data moved to float_data': (d, t) => {
    const n = Math.floor(t.rawData.byteLength / 4) - (d.rng.next() < 0.5 ? 0 : 1);
    const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    t.floatData = Array.from({ length: Math.max(0, n) }, (_, i) => dv.getFloat32(4 * i, true));
    // Either cleared (float_data alone holds the values) or left present but empty (which onnxruntime reads as raw).
    if (d.rng.next() < 0.5) clearField(t, TensorProtoSchema.field.rawData);
    else t.rawData = new Uint8Array(0);
  },
  'int64_data on a float tensor': (_d, t) => { t.int64Data = [1n, 2n, 3n]; },
  'external_data entries with DEFAULT location': (_d, t) => {
    t.externalData = [entry('location', 'model.onnx'), entry('offset', '0'), entry('length', String(t.rawData.byteLength))];
    t.rawData = new Uint8Array(0);
  },
  'data_location 5': (_d, t) => { t.dataLocation = 5 as DataLocation; },
};

/** Hostile external data: what `location`, `offset` and `length` point at. */
const EXTERNAL_MUTATORS: Record<string, (d: Draft, t: TensorProto) => void> = {
  'location is a directory': (d, t) => { d.files.set('in/adir', { kind: 'dir' }); setEntry(t, 'location', 'adir'); },
  'location is a FIFO': (d, t) => { d.files.set('in/pipe', { kind: 'fifo' }); setEntry(t, 'location', 'pipe'); },
  'location is a link leading outside': (d, t) => {
    d.files.set('secret.data', { kind: 'bytes', data: d.side!.bytes });
    d.files.set('in/link.data', { kind: 'symlink', target: '../secret.data' });
    setEntry(t, 'location', 'link.data');
  },
  'location is a link inside the folder': (d, t) => {
    d.files.set('in/alias.data', { kind: 'symlink', target: 'model.onnx.data' });
    setEntry(t, 'location', 'alias.data');
  },
  'location is a link to a device': (d, t) => { d.files.set('in/zero', { kind: 'symlink', target: '/dev/zero' }); setEntry(t, 'location', 'zero'); },
  'location escapes': (d, t) => { d.files.set('outside.data', { kind: 'bytes', data: d.side!.bytes }); setEntry(t, 'location', '../outside.data'); },
  'location absolute': (_d, t) => { setEntry(t, 'location', '/etc/hostname'); },
  'location empty': (_d, t) => { setEntry(t, 'location', ''); },
  'location missing': (_d, t) => { setEntry(t, 'location', undefined); },
  'location names a missing file': (_d, t) => { setEntry(t, 'location', 'nope.bin'); },
  'offset not a plain integer': (d, t) => { setEntry(t, 'offset', pick(d.rng, ['1e3', '', ' 5', '0x10', '-0', '-4', '4.0', '99999999999999999999'])); },
  'length not a plain integer': (d, t) => { setEntry(t, 'length', pick(d.rng, ['1e3', '', ' 5', '0x10', '-0', '-4', '4.0', '99999999999999999999'])); },
  'range past the end': (d, t) => { setEntry(t, 'offset', String(d.side!.bytes.byteLength - 2)); },
  'side file truncated': (d) => { d.side = { ...d.side!, bytes: d.side!.bytes.slice(0, d.side!.bytes.byteLength >> 1) }; },
  'unknown key': (_d, t) => { setEntry(t, 'colour', 'blue'); },
};

function wrongAttributeType(a: AttributeProto, rng: Rng): void {
  const to = pick(rng, [AttrType.FLOAT, AttrType.INT, AttrType.STRING, AttrType.INTS, AttrType.FLOATS, AttrType.UNDEFINED, 77].filter((t) => t !== a.type));
  a.type = to;
}

/** Graph-level lies. */
const GRAPH_MUTATORS: Record<string, Mutator> = {
  'cycle': (d) => {
    const nodes = d.proto.graph!.node;
    if (nodes.length < 2) return;
    const i = d.rng.int(nodes.length - 1);
    const j = i + 1 + d.rng.int(nodes.length - 1 - i);
    if (nodes[i]!.input.length && nodes[j]!.output[0]) nodes[i]!.input[0] = nodes[j]!.output[0]!;
  },
  'undefined input': (d) => { const n = someNode(d); if (n?.input.length) n.input[d.rng.int(n.input.length)] = 'no_such_value'; },
  'duplicate producer': (d) => {
    const nodes = d.proto.graph!.node;
    if (nodes.length < 2) return;
    const a = pick(d.rng, nodes);
    const b = pick(d.rng, nodes);
    if (a !== b && a.output[0] && b.output.length) b.output[0] = a.output[0];
  },
  'graph output undefined': (d) => { const o = d.proto.graph!.output[0]; if (o) o.name = 'nothing_makes_this'; },
  'no outputs': (d) => { d.proto.graph!.output = []; },
  'empty graph': (d) => { d.proto.graph!.node = []; },
  'no opset_import': (d) => { d.proto.opsetImport = []; },
  'ir_version': (d) => { d.proto.irVersion = pick(d.rng, [0n, 99n, -1n, 2n ** 40n, 14n]); },
  'opset version': (d) => { const o = d.proto.opsetImport[0]; if (o) o.version = pick(d.rng, [0n, 27n, 1000n, -3n]); },
  'wrong attribute type': (d) => {
    const n = someNode(d, ['Conv', 'Gemm', 'Concat', 'Flatten', 'Transpose', 'Softmax', 'MaxPool', 'Gather', 'Reshape', 'BatchNormalization', 'LayerNormalization', 'Split', 'Unsqueeze']);
    const a = n?.attribute.length ? pick(d.rng, n.attribute) : undefined;
    if (a) wrongAttributeType(a, d.rng);
  },
  'axis out of range': (d) => {
    const n = someNode(d, ['Concat', 'Softmax', 'Flatten', 'Gather', 'Split', 'LayerNormalization', 'Transpose', 'ReduceMean', 'Unsqueeze', 'Squeeze']);
    if (!n) return;
    const value = pick(d.rng, [99n, -99n, 4n, -5n]);
    const a = n.attribute.find((x) => x.name === 'axis' || x.name === 'axes' || x.name === 'perm');
    if (a?.type === AttrType.INTS) a.ints = a.ints.map((v, i) => (i === 0 ? value : v));
    else if (a) a.i = value;
    else n.attribute.push(create(AttributeProtoSchema, { name: 'axis', type: AttrType.INT, i: value }));
  },
  'group': (d) => {
    const n = someNode(d, ['Conv']);
    if (!n) return;
    const value = pick(d.rng, [0n, -1n, 3n, 2n, 7n, 1000n]);
    const a = n.attribute.find((x) => x.name === 'group');
    if (a) a.i = value;
    else n.attribute.push(create(AttributeProtoSchema, { name: 'group', type: AttrType.INT, i: value }));
  },
  'window attributes': (d) => {
    const n = someNode(d, ['Conv', 'MaxPool', 'AveragePool']);
    const a = n?.attribute.find((x) => ['strides', 'pads', 'kernel_shape', 'dilations'].includes(x.name));
    if (a) a.ints = a.ints.map((v, i) => (i === 0 ? pick(d.rng, [0n, -1n, 100n, 2n ** 40n]) : v));
  },
  'unknown attribute': (d) => { const n = someNode(d); n?.attribute.push(create(AttributeProtoSchema, { name: 'colour', type: AttrType.INT, i: 1n })); },
  'weight of the wrong shape': (d) => {
    // A Conv/Gemm/MatMul weight whose dims are rearranged (same element count, so the bytes still agree).
    const n = someNode(d, ['Conv', 'Gemm', 'MatMul']);
    const t = n && initializers(d).find((x) => x.name === n.input[1]);
    if (!t || t.dims.length < 2) return;
    const dims = [...t.dims];
    if (dims.length === 2) t.dims = [dims[1]!, dims[0]!];
    else t.dims = [dims[0]!, dims[1]! * dims[2]!, 1n, ...dims.slice(3)];
  },
  'Reshape target count': (d) => {
    const n = someNode(d, ['Reshape']);
    const t = n && initializers(d).find((x) => x.name === n.input[1]);
    if (!t || t.rawData.byteLength < 8) return;
    const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    const last = t.rawData.byteLength / 8 - 1;
    const v = dv.getBigInt64(8 * last, true);
    const copy = new Uint8Array(t.rawData);
    new DataView(copy.buffer).setBigInt64(8 * last, v === -1n ? 7n : v + 1n, true);
    t.rawData = copy;
  },
  'lying value_info': (d) => {
    const g = d.proto.graph!;
    const n = someNode(d, ['Conv', 'Gemm', 'MatMul', 'Relu', 'Add', 'Concat']);
    const name = n?.output[0];
    if (!name) return;
    let vi = g.valueInfo.find((v) => v.name === name);
    if (!vi) {
      // A full declaration (rank 4 for conv outputs) whose channel count is off by three.
      vi = create(ValueInfoProtoSchema, { name });
      g.valueInfo.push(vi);
    }
    const dims = [1n, 11n, 2n, 2n].slice(0, 2 + d.rng.int(3));
    const shape = create(TensorShapeProtoSchema, { dim: dims.map(dimValue) });
    vi.type = create(TypeProtoSchema, { value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: DataType.FLOAT, shape }) } });
  },
  'lying output declaration': (d) => {
    const dims = d.proto.graph!.output[0] && shapeDims(d.proto.graph!.output[0]);
    const last = dims?.[dims.length - 1];
    if (last?.value.case === 'dimValue') last.value.value += 3n;
  },
  'graph input dims': (d) => {
    const dims = d.proto.graph!.input[0] && shapeDims(d.proto.graph!.input[0]);
    if (dims?.length) dims[d.rng.int(dims.length)] = dimValue(pick(d.rng, [-5n, 2n ** 40n, 2n ** 62n, 0n, 3n, 1000n]));
  },
  'graph input type': (d) => {
    const t = d.proto.graph!.input[0]?.type;
    if (t?.value.case === 'tensorType') t.value.value.elemType = pick(d.rng, [DataType.INT64, DataType.DOUBLE, DataType.FLOAT16, DataType.STRING, DataType.BOOL, 0, 99]);
  },
  'duplicate graph input': (d) => { const g = d.proto.graph!; if (g.input[0]) g.input.push(g.input[0]); },
  'initializer overrides the graph input': (d) => {
    const g = d.proto.graph!;
    const input = g.input[0];
    const dims = input && shapeDims(input);
    if (!dims || dims.some((x) => x.value.case !== 'dimValue')) return;
    const shape = dims.map((x) => x.value.value as bigint);
    const n = Number(shape.reduce((a, b) => a * b, 1n));
    if (n > 1 << 20) return;
    g.initializer.push(create(TensorProtoSchema, { name: input!.name, dims: shape, dataType: DataType.FLOAT, rawData: new Uint8Array(4 * n) }));
  },
  'custom-domain op': (d) => {
    const n = someNode(d, ['Relu', 'Sigmoid', 'Add', 'Mul']);
    if (!n) return;
    n.domain = 'com.example';
    if (!d.proto.opsetImport.some((o) => o.domain === 'com.example')) d.proto.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'com.example', version: 1n }));
  },
  'node inserted with a bad input count': (d) => {
    const g = d.proto.graph!;
    const out = g.node[0]?.output[0];
    if (!out) return;
    g.node.push(create(NodeProtoSchema, { opType: pick(d.rng, ['Relu', 'Conv', 'Gemm', 'Concat']), name: 'extra', input: d.rng.next() < 0.5 ? [] : [out, out, out, out], output: ['extra_out'] }));
  },
};

const MUTATORS: [string, Mutator][] = [
  ['byte flips', (d) => {
    const flips = 1 + d.rng.int(8);
    const seed = d.rng.int(2 ** 31);
    d.bytes = (b) => {
      const r = new Rng(seed);
      const out = new Uint8Array(b);
      for (let i = 0; i < flips; i++) out[r.int(out.length)] ^= 1 << r.int(8);
      return out;
    };
  }],
  ['truncation', (d) => {
    const frac = d.rng.next();
    d.bytes = (b) => b.slice(0, Math.floor(b.byteLength * frac));
  }],
  ...Object.entries(TENSOR_MUTATORS).map(([name, m]): [string, Mutator] => [`tensor: ${name}`, (d) => { const t = someTensor(d); if (t) m(d, t); }]),
  ...Object.entries(EXTERNAL_MUTATORS).map(([name, m]): [string, Mutator] => [`external: ${name}`, (d) => { const t = externalTensor(d); if (t) m(d, t); }]),
  ...Object.entries(GRAPH_MUTATORS).map(([name, m]): [string, Mutator] => [`graph: ${name}`, m]),
  ['output onto the input\'s side file', (d) => {
    if (!d.side) externalize(d);
    d.output = pick(d.rng, [`in/${d.side!.name}`, 'in/model.onnx']);
  }],
  ['output whose side file is the input\'s', (d) => {
    // The input's weights live in in/out.onnx.data; writing in/out.onnx with external data would replace them.
    if (!d.side) externalize(d);
    for (const t of initializers(d)) if (t.dataLocation === DataLocation.EXTERNAL) setEntry(t, 'location', 'out.onnx.data');
    d.side = { ...d.side!, name: 'out.onnx.data' };
    d.output = 'in/out.onnx';
    d.options.push('--external-data');
  }],
  ['output is a link to the input', (d) => {
    d.files.set('out/link.onnx', { kind: 'symlink', target: d.rng.next() < 0.5 ? '../in/model.onnx' : '../in/model.onnx.data' });
    if (!d.side) externalize(d);
    d.output = 'out/link.onnx';
  }],
  ['output is a hard link to the input', (d) => {
    d.files.set('out/hard.onnx', { kind: 'hardlink', target: MODEL });
    d.output = 'out/hard.onnx';
  }],
  ['report onto a directory', (d) => { d.files.set('out/report.json', { kind: 'dir' }); d.report = 'out/report.json'; }],
  ['report in a missing folder', (d) => { d.report = 'out/missing/report.json'; }],
  ['report onto the input', (d) => { d.report = pick(d.rng, [MODEL, 'out/pruned.onnx']); }],
  ['output in a missing folder', (d) => { d.output = 'nowhere/pruned.onnx'; }],
  ['output onto a directory', (d) => { d.files.set('out/taken.onnx', { kind: 'dir' }); d.output = 'out/taken.onnx'; }],
  ['validate with missing data', (d) => { d.options.push('--validate', '--data', '{dir}/no/such/data'); }],
  ['layer ratios file', (d) => {
    const json = pick(d.rng, ['{"": 0.5}', '{"default": 0.3, "layers": {"": 0.5}}', '{"*": 0.5}', '{"/(/": 0.2}', '{"default": 1}', '[]', 'not json', '{"*": "half"}', '{"default": 0.2, "layers": {"/conv/": 0.6}}']);
    d.files.set('in/ratios.json', { kind: 'bytes', data: new TextEncoder().encode(json) });
    d.options.push('--layer-ratios', '{dir}/in/ratios.json');
  }],
];

/** Options for each command, absurd ones included. */
function chooseCommand(d: Draft): void {
  const r = d.rng.next();
  if (d.options.length || d.report || d.output !== 'out/pruned.onnx' || r < 0.7) {
    d.command = 'prune';
    const opts = PRUNE_OPTIONS.filter(() => d.rng.next() < 0.06)
      .flatMap(([name, sane, absurd]) => [name, pick(d.rng, d.rng.next() < 0.2 ? absurd : sane)])
      .filter((x) => x !== '');
    d.options.push(...opts);
    if (d.rng.next() < 0.3 && !d.report) d.report = 'out/report.json';
    // The page is an output like the report: mostly sane, sometimes onto the input, the model or the report, or nowhere.
    if (d.rng.next() < 0.15) d.page = pick(d.rng, ['out/report.html', 'out/report.html', 'out/report.html', MODEL, d.output, d.report ?? 'out/report.html', 'out/missing/report.html']);
    // Calibration: data of every kind for --calib, the calibrated criteria, and what needs --calib without it.
    const calib = d.rng.next();
    if (calib < 0.12) d.options.push('--calib', dataSource(d), ...pick(d.rng, CALIB_OPTIONS));
    else if (calib < 0.15) d.options.push(...pick(d.rng, [['--compensate'], ['--method', 'flap'], ['--method', 'activation-eigenvector']]));
  } else if (r < 0.8) {
    d.command = 'inspect';
    if (d.rng.next() < 0.5) d.options.push('--json');
  } else if (r < 0.9) {
    d.command = 'groups';
  } else if (r < 0.95) {
    d.command = 'validate';
    d.options.push(...pick(d.rng, [[], ['--random', '2'], ['--random', '1e9'], ['--random', '100001'], ['--batch', '1000000'], ['--runs', '0'], ['--random', '3', '--batch', '2', '--seed', '4294967295']]));
  } else {
    d.command = 'evaluate';
    d.options.push('--data', dataSource(d), '--ep', 'cpu', ...pick(d.rng, EVALUATE_OPTIONS));
  }
}

const CALIB_OPTIONS: string[][] = [
  [], ['--method', 'wanda'], ['--method', 'flap'], ['--method', 'activation-eigenvector'], ['--method', 'live-eigenvector'], ['--no-compensate'],
  ['--calib-samples', '2'], ['--calib-samples', '0'], ['--calib-window', '4'], ['--calib-window', '1e9'],
];
const EVALUATE_OPTIONS: string[][] = [
  [], ['--perplexity'], ['--window', '4'], ['--window', '1e9'], ['--batch', '1'], ['--batch', '100000'], ['--limit', '1'], ['--json'], ['--seed', '-1'],
];

/**
 * A data source for --calib / evaluate --data: token ids (.npy), text, float samples with labels, the model itself,
 * the input's folder, a path that does not exist, or the output the command would write.
 */
function dataSource(d: Draft): string {
  const kind = pick(d.rng, ['tokens', 'tokens', 'text', 'floats', 'model', 'folder', 'missing', 'output'] as const);
  const put = (name: string, data: Uint8Array) => {
    d.files.set(`in/${name}`, { kind: 'bytes', data });
    return `{dir}/in/${name}`;
  };
  switch (kind) {
    case 'tokens': return put('ids.npy', encodeNpy(BigInt64Array.from({ length: 16 }, (_, i) => BigInt((i * 5) % 8)), [2, 8]));
    case 'text': return put('text.txt', new TextEncoder().encode('In the beginning was the word.\n'.repeat(8)));
    case 'floats':
      put('x_labels.npy', encodeNpy(BigInt64Array.from([0n, 1n, 2n]), [3]));
      return put('x.npy', encodeNpy(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [3, 8]));
    case 'model': return `{dir}/${MODEL}`;
    case 'folder': return '{dir}/in';
    case 'missing': return '{dir}/in/none.npy';
    case 'output': return `{dir}/${d.output}`;
    default: {
      const unhandled: never = kind;
      throw new Error(`dataSource: ${String(unhandled)}`);
    }
  }
}

/** prune's options: [flag, sane values, absurd values] ('' for a flag without a value is dropped). */
const PRUNE_OPTIONS: [string, string[], string[]][] = [
  ['--ratio', ['0', '0.5', '0.9'], ['0.99', '1e-9', '1', '-0', 'NaN', '0x1']],
  ['--threshold', ['-0.5', '0.5', '0.9'], ['-1', '1', '2']],
  ['--scope', ['all', 'conv', 'dense'], ['everything']],
  ['--method', ['degree', 'l1', 'l2', 'random'], ['eigen']],
  ['--round-to', ['2', '8', 'auto', '1'], ['1048577', '1e9', '0']],
  ['--min-channels', ['2', '16'], ['1048576', '1e3']],
  ['--layers', ['*', '/conv/i', '*.weight'], ['', '/(/', 'no_such_layer']],
  ['--exclude', ['*fc*', '/0/'], ['', '*', '/.*/']],
  ['--target-macs', ['0.5', '0.8'], ['0.01', '1', '0']],
  ['--target-params', ['0.5', '0.8'], ['0.01', '0']],
  ['--keep', ['central', 'peripheral'], ['both']],
  ['--coupling', ['concat', 'average'], ['sum']],
  ['--seed', ['0', '7'], ['4294967295', '4294967296', '-1']],
  ['--unweighted', [''], ['']],
  ['--global', [''], ['']],
  ['--prune-residual', [''], ['']],
  ['--validate', [''], ['']],
  ['--external-data', [''], ['']],
  ['--uniform-heads', [''], ['']],
  ['--no-uniform-heads', [''], ['']],
];
