import { dataTypeName } from './dtype.js';
import { fail } from './errors.js';
import { dependencyOrder, type Graph } from './graph.js';
import type { Model } from './model.js';
import type { Node } from './node.js';
import { FoldedValues, isIntegerType, RuleContext, type OpSignature, type OutputInfo } from './shapes/context.js';
import { allKnown, fillUnknownDims, implausibleDims, numelOf, refineDims } from './shapes/dims.js';
import { opRuleFor } from './shapes/rules.js';
import type { Shape, Value } from './value.js';

export interface ShapeInferenceOptions {
  /**
   * Recompute every node output from the graph inputs and initializers, replacing the shapes values already have
   * (the pruning rewrite calls this after changing weights). A dim that cannot be computed keeps its previous
   * value only when nothing feeding the node changed shape; otherwise it becomes unknown, never stale.
   */
  overwrite?: boolean;
}

export interface ShapeInferenceResult {
  /** Ops we have no rule for (custom domains as `domain.Op`): their outputs are left as they were, never guessed. */
  readonly unknownOps: Set<string>;
  /** Integer tensors whose contents are known at compile time (small initializers, Constants, folded shape math). */
  readonly constants: Map<Value, number[]>;
  /** Node outputs whose rank is still unknown. */
  readonly unresolved: Value[];
  /**
   * With `overwrite`: nodes whose operands, attributes or outputs contradict each other, one line each (a rewrite
   * that leaves any has broken the model). Without it the first one is thrown instead (see inferShapes).
   */
  readonly problems: ShapeProblem[];
}

/** A node that contradicts itself or its operands, and the line saying how (it names the node). */
export interface ShapeProblem {
  readonly node: Node;
  readonly message: string;
}

/**
 * Fills `elemType` and `shape` of node outputs by walking the graph in dependency order (the node list itself is
 * not reordered) with one rule per ONNX op (src/ir/shapes/), folding the Shape → Gather → Concat → Reshape chains
 * exporters emit. Graph inputs keep their declared shapes. Without `overwrite`, a shape a value already has is
 * kept, except that its unknown dims, and symbolic dims we computed a size for, are filled in.
 *
 * Without `overwrite` this is also the check that the model is consistent before any analysis: a node whose
 * operands or attributes contradict each other (a Conv whose weight expects other input channels, an axis out of
 * range, a Reshape to another element count), an output dim that is negative or absurd, or a declared shape or
 * type (value_info, graph output) that differs from what the node computes throws a UserError naming the node.
 */
export function inferShapes(model: Model, opts: ShapeInferenceOptions = {}): ShapeInferenceResult {
  const graph = model.graph;
  const opset = model.opsetVersion;
  const overwrite = opts.overwrite ?? false;
  const folded = new FoldedValues();
  const unknownOps = new Set<string>();
  const before = new Map<Value, Shape | undefined>();
  if (overwrite) {
    for (const v of graph.allValues()) before.set(v, v.shape);
    for (const v of graph.initializers) {
      if (v.isGraphInput()) continue;
      v.shape = v.initializer!.dims;
      v.elemType = v.initializer!.dataType;
    }
  }
  const changed = (v: Value | null): boolean => v !== null && overwrite && contradicts(before.get(v), v.shape);
  const problems: ShapeProblem[] = [];

  for (const node of dependencyOrder(graph).order) {
    const known = node.domain === '' || node.domain === 'ai.onnx';
    const entry = opRuleFor(node.opType, node.domain);
    if (!entry) unknownOps.add(known ? node.opType : `${node.domain}.${node.opType}`);
    const report = (message: string): void => {
      const line = `node '${node.label}' (${node.opType}): ${message}`;
      if (!overwrite) fail(line);
      problems.push({ node, message: line });
    };
    if (entry) checkOperandTypes(node, entry.signature, report);
    const infos = entry ? entry.infer(new RuleContext(node, opset, folded, report)) : [];
    const inputsChanged = node.inputs.some(changed);
    node.outputs.forEach((out, i) => {
      if (!out) return;
      const info = infos[i];
      checkDims(info?.shape, out, report);
      if (overwrite) applyOverwrite(out, info, inputsChanged, before.get(out));
      else applyKeep(out, info, report);
      folded.set(out, consistentValue(info, out.shape));
    });
  }

  return { unknownOps, constants: integerConstants(graph, folded), unresolved: unresolvedOutputs(graph), problems };
}

/**
 * Operands bound to one type parameter must share an element type (Conv's X, W and B; Add's A and B), and an
 * operand the spec limits to some types must have one of them (Reshape's shape: int64; Gather's indices: int32 or
 * int64), as onnxruntime requires.
 */
function checkOperandTypes(node: Node, sig: OpSignature, report: (message: string) => void): void {
  const bound = new Map<string, { type: number; input: number }>();
  const types = sig.inputTypes;
  node.inputs.forEach((v, i) => {
    const t = types[Math.min(i, types.length - 1)];
    if (!v || v.elemType === undefined || t === undefined) return;
    if (t.allowed && !t.allowed.includes(v.elemType))
      report(`input ${i} '${v.name}' is ${dataTypeName(v.elemType)} but must be ${t.allowed.map(dataTypeName).join(' or ')}`);
    if (!t.param) return;
    const first = bound.get(t.param);
    if (!first) bound.set(t.param, { type: v.elemType, input: i });
    else if (first.type !== v.elemType)
      report(`inputs ${first.input} and ${i} ('${v.name}') must have one element type (${t.param}) but are ${dataTypeName(first.type)} and ${dataTypeName(v.elemType)}`);
  });
}

/** A computed shape must be one that can exist (implausibleDims): anything else means the node's operands lie. */
function checkDims(shape: Shape | undefined, out: Value, report: (message: string) => void): void {
  const bad = shape && implausibleDims(shape);
  if (bad) report(`output '${out.name}' would have shape ${formatShape(shape)}, with ${bad}`);
}

/**
 * Without overwrite: set what is missing; a shape of the same rank gets its unknown and symbolic dims refined. A
 * declared type, rank or known dim that differs from the inferred one is reported, never trusted.
 */
function applyKeep(out: Value, info: OutputInfo | undefined, report: (message: string) => void): void {
  if (!info) return;
  if (out.elemType !== undefined && info.elemType !== undefined && out.elemType !== info.elemType)
    report(`'${out.name}' is declared as ${dataTypeName(out.elemType)} but the node makes ${dataTypeName(info.elemType)}`);
  if (out.elemType === undefined && info.elemType) out.elemType = info.elemType;
  if (!info.shape) return;
  if (out.shape && contradicts(out.shape, info.shape, false))
    report(`'${out.name}' is declared with shape ${formatShape(out.shape)} but the node makes ${formatShape(info.shape)}`);
  out.shape = out.shape ? refineDims(out.shape, info.shape) : info.shape;
}

function formatShape(s: Shape): string {
  return `[${s.map((d) => d ?? '?').join(', ')}]`;
}

/** With overwrite: the inferred shape wins; the old one fills gaps only while the node's inputs are unchanged. */
function applyOverwrite(out: Value, info: OutputInfo | undefined, inputsChanged: boolean, previous: Shape | undefined): void {
  if (info?.elemType) out.elemType = info.elemType;
  if (info?.shape) out.shape = inputsChanged ? info.shape : fillUnknownDims(info.shape, previous);
  else out.shape = inputsChanged ? undefined : previous;
}

/**
 * Whether a recomputed shape disagrees with what the value had: lost, another rank, or another known size.
 * Learning a shape or a dim that was unknown is not a change; with `symbols` (a rewrite's check), a named dim
 * becoming another name is one, while a declaration's names never contradict what inference computes.
 */
function contradicts(previous: Shape | undefined, now: Shape | undefined, symbols = true): boolean {
  if (!previous) return false;
  if (!now || now.length !== previous.length) return true;
  if (!symbols) return now.some((d, i) => typeof d === 'number' && typeof previous[i] === 'number' && d !== previous[i]);
  return now.some((d, i) => d !== previous[i] && previous[i] !== null && d !== null && !(typeof previous[i] === 'string' && typeof d === 'number'));
}

/** Folded contents are kept only when they agree with the output's final shape. */
function consistentValue(info: OutputInfo | undefined, shape: Shape | undefined) {
  return info?.value && numelOf(shape) === info.value.length ? info.value : undefined;
}


function integerConstants(graph: Graph, folded: FoldedValues): Map<Value, number[]> {
  for (const v of graph.initializers) if (isIntegerType(v.initializer?.dataType)) folded.get(v);
  const out = new Map<Value, number[]>();
  for (const [v, contents] of folded.entries())
    if (isIntegerType(v.elemType) && allKnown(contents)) out.set(v, contents);
  return out;
}

function unresolvedOutputs(graph: Graph): Value[] {
  return graph.nodes.flatMap((n) => n.outputs.filter((v): v is Value => v !== null && v.shape === undefined));
}
