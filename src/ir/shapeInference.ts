import { dependencyOrder, type Graph } from './graph.js';
import type { Model } from './model.js';
import { FoldedValues, isIntegerType, RuleContext, type OutputInfo } from './shapes/context.js';
import { allKnown, fillUnknownDims, numelOf, refineDims } from './shapes/dims.js';
import { shapeRuleFor } from './shapes/rules.js';
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
}

/**
 * Fills `elemType` and `shape` of node outputs by walking the graph in dependency order (the node list itself is
 * not reordered) with one rule per ONNX op (src/ir/shapes/), folding the Shape → Gather → Concat → Reshape chains
 * exporters emit. Graph inputs keep their declared shapes. Without `overwrite`, a shape a value already has is
 * kept, except that its unknown dims, and symbolic dims we computed a size for, are filled in.
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

  for (const node of dependencyOrder(graph).order) {
    const known = node.domain === '' || node.domain === 'ai.onnx';
    const rule = shapeRuleFor(node.opType, known ? '' : node.domain);
    if (!rule) unknownOps.add(known ? node.opType : `${node.domain}.${node.opType}`);
    const infos = rule ? rule(new RuleContext(node, opset, folded)) : [];
    const inputsChanged = node.inputs.some(changed);
    node.outputs.forEach((out, i) => {
      if (!out) return;
      const info = infos[i];
      if (overwrite) applyOverwrite(out, info, inputsChanged, before.get(out));
      else applyKeep(out, info);
      folded.set(out, consistentValue(info, out.shape));
    });
  }

  return { unknownOps, constants: integerConstants(graph, folded), unresolved: unresolvedOutputs(graph) };
}

/** Without overwrite: set what is missing; a shape of the same rank gets its unknown and symbolic dims refined. */
function applyKeep(out: Value, info: OutputInfo | undefined): void {
  if (!info) return;
  if (out.elemType === undefined && info.elemType) out.elemType = info.elemType;
  if (!info.shape) return;
  out.shape = out.shape ? refineDims(out.shape, info.shape) : info.shape;
}

/** With overwrite: the inferred shape wins; the old one fills gaps only while the node's inputs are unchanged. */
function applyOverwrite(out: Value, info: OutputInfo | undefined, inputsChanged: boolean, previous: Shape | undefined): void {
  if (info?.elemType) out.elemType = info.elemType;
  if (info?.shape) out.shape = inputsChanged ? info.shape : fillUnknownDims(info.shape, previous);
  else out.shape = inputsChanged ? undefined : previous;
}

/**
 * Whether a recomputed shape disagrees with what the value had: lost, another rank, or another known size.
 * Learning a shape or a dim that was unknown is not a change.
 */
function contradicts(previous: Shape | undefined, now: Shape | undefined): boolean {
  if (!previous) return false;
  if (!now || now.length !== previous.length) return true;
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
