import { AttributeProto_AttributeType as AttrType, Version, type AttributeProto, type ValueInfoProto } from 'onnx-buf';
import { dataTypeName, isKnownDataType } from './dtype.js';
import { fail } from './errors.js';
import type { Graph } from './graph.js';
import type { Model } from './model.js';
import type { Node } from './node.js';
import type { AttrKind, OpSignature } from './shapes/context.js';
import { implausibleDims } from './shapes/dims.js';
import { signatureFor } from './shapes/rules.js';
import { tensorTypeOf, type Value } from './value.js';

/** The newest IR version our protobuf definitions describe (and onnxruntime reads). */
export const MAX_IR_VERSION = Version.IR_VERSION;
/** The newest default-domain opset onnxruntime-node accepts. */
export const MAX_OPSET = 26;

const KIND: Record<AttrKind, AttrType> = {
  float: AttrType.FLOAT, int: AttrType.INT, string: AttrType.STRING, tensor: AttrType.TENSOR, graph: AttrType.GRAPH,
  sparse_tensor: AttrType.SPARSE_TENSOR, floats: AttrType.FLOATS, ints: AttrType.INTS, strings: AttrType.STRINGS,
  tensors: AttrType.TENSORS, graphs: AttrType.GRAPHS, sparse_tensors: AttrType.SPARSE_TENSORS,
};

/**
 * Checks what a loaded model says about itself, before any analysis: a supported IR version and opset imports,
 * every node input and graph output defined (by a node, a graph input, an initializer or an enclosing graph),
 * inputs, outputs and attributes of every ONNX op matching its signature (src/ir/shapes/), and declared shapes
 * that can exist. Throws a UserError naming the node or value. Shapes that disagree with what the nodes compute
 * are caught by shape inference (src/ir/shapeInference.ts), which runs before any analysis.
 */
export function validateModel(model: Model): void {
  const p = model.proto;
  const ir = Number(p.irVersion);
  if (ir > MAX_IR_VERSION) fail(`the model has IR version ${ir}; onnx-cprune and onnxruntime read up to ${MAX_IR_VERSION}`);
  const domains = new Set<string>();
  for (const o of p.opsetImport) {
    const domain = o.domain === 'ai.onnx' ? '' : o.domain;
    if (domains.has(domain)) fail(`opset_import lists the domain '${o.domain || 'ai.onnx'}' twice`);
    domains.add(domain);
    if (o.version < 1n) fail(`opset_import gives the domain '${o.domain || 'ai.onnx'}' version ${o.version}`);
    if (domain === '' && o.version > BigInt(MAX_OPSET)) fail(`the model imports ONNX opset ${o.version}; onnx-cprune and onnxruntime support up to ${MAX_OPSET}`);
  }
  if (model.graph.outputs.length === 0) fail(`graph '${model.graph.name}' has no outputs`);
  checkGraph(model.graph, domains, ir);
}

function checkGraph(g: Graph, domains: ReadonlySet<string>, ir: number): void {
  const inputs = new Set<Value>();
  for (const v of g.inputs) {
    if (inputs.has(v)) fail(`graph '${g.name}' lists the input '${v.name}' twice`);
    inputs.add(v);
    const proto = g.inputProtos.get(v);
    // The main graph's inputs are what callers feed: they must say what (subgraph inputs may leave it to the op).
    if (!g.parent && (proto?.type?.value.case === undefined || (proto.type.value.case === 'tensorType' && proto.type.value.value.elemType === 0)))
      fail(`graph input '${v.name}' declares no ${proto?.type?.value.case ? 'element ' : ''}type`);
    checkDeclared(v, proto, 'graph input');
    if (v.initializer) checkInitializerInput(v, g.inputProtos.get(v));
  }
  for (const v of g.valueInfo) checkDeclared(v, v.infoProto, 'value_info entry');
  const sparse = new Set((g.proto?.sparseInitializer ?? []).map((s) => s.values?.name ?? ''));
  const defined = (v: Value): boolean => {
    if (v.graph !== g) return true; // an enclosing graph's value, checked there
    return v.producer() !== undefined || v.initializer !== undefined || inputs.has(v) || sparse.has(v.name);
  };
  for (const node of g.nodes) {
    const domain = node.domain === 'ai.onnx' ? '' : node.domain;
    if (!domains.has(domain) && (domain !== '' || ir >= 3))
      fail(`node '${node.label}' (${node.opType}) is in the domain '${node.domain || 'ai.onnx'}', which the model's opset_import does not list`);
    node.inputs.forEach((v, i) => {
      if (v && !defined(v)) fail(`node '${node.label}' (${node.opType}) reads '${v.name}' (input ${i}), which no node produces and which is not a graph input or initializer`);
    });
    for (const v of node.outputs) if (v && inputs.has(v)) fail(`'${v.name}' is both a graph input and the output of node '${node.label}'`);
    const signature = signatureFor(node.opType, domain);
    if (signature) checkSignature(node, signature, ir);
    for (const subs of node.subgraphs.values()) for (const sub of subs) checkGraph(sub, domains, ir);
  }
  for (const v of g.outputs) {
    if (!defined(v)) fail(`graph output '${v.name}' is not produced by any node, nor a graph input or initializer`);
    checkDeclared(v, g.outputProtos.get(v), 'graph output');
  }
}

/** Input and output counts, required operands present, attributes known and of their type. */
function checkSignature(node: Node, sig: OpSignature, ir: number): void {
  const where = `node '${node.label}' (${node.opType})`;
  const count = (n: number, [min, max]: readonly [number, number], what: string): void => {
    if (n < min || n > max) fail(`${where} has ${n} ${what}; ${node.opType} takes ${min === max ? min : max === Infinity ? `${min} or more` : `${min} to ${max}`}`);
  };
  count(node.inputs.length, sig.inputs, 'inputs');
  count(node.outputs.length, sig.outputs, 'outputs');
  const optional = (i: number): boolean => sig.inputTypes[Math.min(i, sig.inputTypes.length - 1)]?.optional === true;
  const missingInput = node.inputs.findIndex((v, i) => i < sig.inputs[0] && v === null && !optional(i));
  if (missingInput >= 0) fail(`${where}: required input ${missingInput} is empty`);
  const missingOutput = node.outputs.findIndex((v, i) => i < sig.outputs[0] && v === null);
  if (missingOutput >= 0) fail(`${where}: required output ${missingOutput} is empty`);
  const seen = new Set<string>();
  for (const a of node.attributes) {
    if (seen.has(a.name)) fail(`${where} has the attribute '${a.name}' twice`);
    seen.add(a.name);
    if (!Object.hasOwn(sig.attrs, a.name)) {
      if (sig.uncheckedAttributes) continue;
      fail(`${where} has an attribute '${a.name}', which ${node.opType} does not take`);
    }
    const allowed = ([] as AttrKind[]).concat(sig.attrs[a.name]!);
    if (!allowed.some((k) => KIND[k] === a.type) && (ir >= 2 || a.type !== AttrType.UNDEFINED))
      fail(`${where}: attribute '${a.name}' is ${typeName(a)} but ${node.opType} takes ${allowed.join(' or ')}`);
  }
}

function typeName(a: AttributeProto): string {
  const name = Object.entries(KIND).find(([, t]) => t === a.type)?.[0];
  return name ? `of type ${name}` : `of undefined type (${a.type})`;
}

/** A declared shape must be one that can exist, and a declared element type one ONNX defines. */
function checkDeclared(v: Value, proto: ValueInfoProto | undefined, what: string): void {
  if (!proto) return;
  const declared = tensorTypeOf(proto.type);
  if (declared.elemType !== undefined && !isKnownDataType(declared.elemType))
    fail(`${what} '${v.name}' has element type ${declared.elemType}, which ONNX does not define`);
  const bad = declared.shape && implausibleDims(declared.shape);
  if (bad) fail(`${what} '${v.name}' declares shape [${declared.shape!.map((d) => d ?? '?').join(', ')}], with ${bad}`);
}

/** A graph input with an initializer (its default) must declare the initializer's type and shape. */
function checkInitializerInput(v: Value, proto: ValueInfoProto | undefined): void {
  const t = v.initializer!;
  const declared = tensorTypeOf(proto?.type);
  if (declared.elemType !== undefined && declared.elemType !== t.dataType)
    fail(`graph input '${v.name}' is declared ${dataTypeName(declared.elemType)} but its initializer is ${dataTypeName(t.dataType)}`);
  const dims = t.dims;
  const s = declared.shape;
  if (s && (s.length !== dims.length || s.some((d, i) => typeof d === 'number' && d !== dims[i])))
    fail(`graph input '${v.name}' is declared with shape [${s.map((d) => d ?? '?').join(', ')}] but its initializer has dims [${dims.join(', ')}]`);
}
