import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AttrType, ModelProtoSchema, TensorProto_DataLocation as DataLocation,
  type AttributeProto, type GraphProto, type ModelProto, type TensorProto,
} from 'onnx-buf';
import { fail, UserError } from './errors.js';
import { externalSourceOf } from './externalData.js';
import { Graph } from './graph.js';
import { Model } from './model.js';
import { Node } from './node.js';
import { Tensor } from './tensor.js';
import { validateModel } from './validateGraph.js';
import { tensorTypeOf, type Value } from './value.js';

/** Protobuf messages are limited to 2 GiB; larger models keep their weights in external data files. */
const MAX_MODEL_FILE = 2 ** 31 - 1;

/** Reads an ONNX model from a file. Bad input of any kind raises a UserError with a one-line reason. */
export function loadModel(path: string): Model {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) fail(`'${path}' is not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    fail(`cannot read '${path}': no such file`);
  }
  if (size > MAX_MODEL_FILE) fail(`'${path}' is ${size} bytes: over protobuf's 2 GiB limit, so it is not a valid ONNX file (large models keep weights in external data)`);
  if (size === 0) fail(`'${path}' is empty, not an ONNX model`);
  return decodeModel(readFileSync(path), { baseDir: dirname(resolve(path)), source: path, file: realpathSync(path) });
}

/**
 * Decodes ONNX bytes and checks the model: every tensor against itself (validate in tensor.ts), external data
 * inside the model's folder, and the graph's structure (validateGraph.ts). Tensor data stays a view into `bytes`.
 */
export function decodeModel(bytes: Uint8Array, opts: { baseDir?: string; source?: string; file?: string } = {}): Model {
  const source = opts.source ?? 'input';
  let proto: ModelProto;
  try {
    proto = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: true });
  } catch (e) {
    fail(`'${source}' is not a valid ONNX model (protobuf decoding failed: ${(e as Error).message.split('\n')[0]})`);
  }
  if (!proto.graph || proto.irVersion <= 0n) fail(`'${source}' is not an ONNX model (no graph or ir_version)`);
  const ctx: LoadContext = { baseDir: opts.baseDir ?? process.cwd(), files: new Set(opts.file ? [opts.file] : []) };
  const graph = buildGraph(proto.graph, undefined, ctx);
  const model = new Model(proto, graph, ctx.baseDir, [...ctx.files]);
  validateModel(model);
  return model;
}

/** What loading collects on the way: where external data is resolved, and every file the model reads. */
interface LoadContext {
  readonly baseDir: string;
  readonly files: Set<string>;
}

function tensorFromProto(t: TensorProto, ctx: LoadContext, where: string): Tensor {
  const external = t.dataLocation === DataLocation.EXTERNAL ? externalSourceOf(t, ctx.baseDir, where) : undefined;
  if (external) ctx.files.add(external.path);
  const tensor = new Tensor(t, external);
  tensor.validate(where);
  return tensor;
}

/** Tensors inside attributes (Constant values, ConstantOfShape fills) are read from the node, never from files. */
function checkAttributeTensors(a: AttributeProto, where: string): void {
  const inline = (t: TensorProto, what: string): void => {
    if (t.dataLocation === DataLocation.EXTERNAL) fail(`${what} keeps its data in an external file, which onnx-cprune reads only for initializers`);
    new Tensor(t).validate(what);
  };
  const label = `attribute '${a.name}' of ${where}`;
  if (a.t) inline(a.t, label);
  a.tensors.forEach((t, i) => inline(t, `${label} (tensor ${i})`));
  for (const sp of [...(a.sparseTensor ? [a.sparseTensor] : []), ...a.sparseTensors]) {
    if (sp.values) inline(sp.values, `${label} (sparse values)`);
    if (sp.indices) inline(sp.indices, `${label} (sparse indices)`);
  }
}

function setType(v: Value, type: Parameters<typeof tensorTypeOf>[0]): void {
  const t = tensorTypeOf(type);
  if (v.elemType === undefined) v.elemType = t.elemType;
  if (v.shape === undefined) v.shape = t.shape;
}

function buildGraph(gp: GraphProto, parent: Graph | undefined, ctx: LoadContext): Graph {
  const g = new Graph({ name: gp.name, parent, proto: gp });
  // Node outputs exist before any node is read, so a subgraph can find an outer value whatever the node order.
  for (const np of gp.node) for (const name of np.output) if (name !== '') g.value(name);
  for (const vi of gp.input) {
    const v = g.value(vi.name);
    setType(v, vi.type);
    g.inputs.push(v);
    g.inputProtos.set(v, vi);
  }
  for (const t of gp.initializer) {
    const v = g.value(t.name);
    if (v.initializer) fail(`initializer '${t.name}' is defined twice`);
    v.initializer = tensorFromProto(t, ctx, `initializer '${t.name}'`);
    v.elemType ??= t.dataType;
    v.shape ??= v.initializer.dims;
    g.initializers.push(v);
  }
  for (const vi of gp.valueInfo) {
    const v = g.value(vi.name);
    setType(v, vi.type);
    v.infoProto = vi;
    g.valueInfo.push(v);
  }
  for (const np of gp.node) {
    const node = new Node(g, np.opType, { domain: np.domain, name: np.name, attributes: np.attribute, proto: np });
    for (const a of np.attribute) {
      if (a.type === AttrType.GRAPH && a.g) node.subgraphs.set(a.name, [buildGraph(a.g, g, ctx)]);
      else if (a.type === AttrType.GRAPHS) node.subgraphs.set(a.name, a.graphs.map((sg) => buildGraph(sg, g, ctx)));
      else checkAttributeTensors(a, `node '${np.name || `${np.opType}(${np.output[0] ?? '?'})`}'`);
    }
    node.setInputs(np.input.map((name) => (name === '' ? null : g.find(name) ?? g.value(name))));
    node.setOutputs(np.output.map((name) => {
      if (name === '') return null;
      const v = g.value(name);
      if (v.producer()) fail(`value '${name}' is produced by two nodes (${v.producer()!.label} and ${node.label})`);
      if (v.initializer) fail(`value '${name}' is both an initializer and the output of node ${node.label}`);
      return v;
    }));
    g.nodes.push(node);
  }
  for (const vo of gp.output) {
    const v = g.find(vo.name) ?? g.value(vo.name);
    setType(v, vo.type);
    g.outputs.push(v);
    g.outputProtos.set(v, vo);
  }
  checkAcyclic(g);
  return g;
}

/** Refuses a graph with a cycle (invalid ONNX, and no pass could order it) while keeping the file's node order. */
function checkAcyclic(g: Graph): void {
  for (const n of g.nodes) {
    const own = n.inputs.find((v) => v && v.producer() === n);
    if (own) fail(`graph '${g.name}' has a cycle: node ${n.label} reads its own output '${own.name}'`);
  }
  const order = [...g.nodes];
  g.topologicalSort(); // throws a UserError naming the cycle
  g.nodes.splice(0, g.nodes.length, ...order);
}
